// The platform part of the addon's file and package names, as napi-rs names them:
// linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, darwin-arm64, win32-x64-msvc...
// Plain CommonJS so the install script can use it before anything is compiled.

function isMusl() {
  if (process.platform !== 'linux') return false;
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
  return !report?.header?.glibcVersionRuntime;
}

function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

module.exports = {
  platformTriple,
  binaryName: (triple = platformTriple()) => `cairn-native.${triple}.node`,
  packageName: (triple = platformTriple()) => `@cairn-s3/native-${triple}`,
};
