import type { OpTable } from '../context';

export const listingOps: OpTable = {};
