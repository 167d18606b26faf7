/** `linux-x64-gnu`, `linux-x64-musl`, `darwin-arm64`, `win32-x64-msvc`... */
export function platformTriple(): string;
/** `cairn-native.<triple>.node` */
export function binaryName(triple?: string): string;
/** `@cairn-s3/native-<triple>`, the prebuilt package for a platform. */
export function packageName(triple?: string): string;
