import type { OpTable } from '../context';

export const objectOps: OpTable = {};
