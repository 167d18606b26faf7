import type { OpTable } from '../context';

export const bucketOps: OpTable = {};
