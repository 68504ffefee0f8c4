import Type from 'typebox';
import { ERROR_CODES, type ErrorCode } from './catalogue.ts';

/** The body of every error response: `{code, message, requestId}`, nothing else. */
export const ErrorEnvelope = Type.Object(
  {
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...ERROR_CODES] }),
    message: Type.String({ maxLength: 1024 }),
    requestId: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false, $id: 'ErrorEnvelope' },
);

export type ErrorEnvelope = Type.Static<typeof ErrorEnvelope>;
