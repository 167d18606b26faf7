/**
 * HeadObject (`HEAD /{bucket}/{key}`): GetObject's status and headers without the body (its errors
 * too: the server sends them without a body, as AWS does).
 */
import type { Op } from '../context';
import { readObject } from './GetObject';

export const HeadObject: Op<'HeadObject'> = (ctx) => readObject(ctx, true);
