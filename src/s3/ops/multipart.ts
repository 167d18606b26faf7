import type { OpTable } from '../context';

export const multipartOps: OpTable = {};
