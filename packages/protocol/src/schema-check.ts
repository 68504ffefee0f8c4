import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

/** A compiled schema check that also says, in one line, what is wrong with a value. */
export interface SchemaCheck<T extends TSchema> {
  check(value: unknown): value is Static<T>;
  /** The first problem as `path: message`, for error messages; empty when the value is valid. */
  describe(value: unknown): string;
}

/** Compiles `schema` once, at module load, so checking a value costs no compilation. */
export function compileSchemaCheck<T extends TSchema>(schema: T): SchemaCheck<T> {
  const validator = Compile(schema);
  return {
    check: (value: unknown): value is Static<T> => validator.Check(value),
    describe(value: unknown): string {
      const [first] = validator.Errors(value);
      return first === undefined ? '' : `${first.instancePath || '/'}: ${first.message}`;
    },
  };
}
