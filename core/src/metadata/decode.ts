// The kernel's stores import the SDK's checked row decoders under their short names.
import { column } from '@wharf/sdk';

export { rowOf, rowsOf, type DbRow as Row } from '@wharf/sdk';
export const { string, optionalString, bigint, int, date, optionalDate, optionalBigint, bool, bytes, json, oneOf } = column;
