import Type from 'typebox';

export const Email = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' });
/** Bounded here too, so an oversized password never reaches the hash. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

export const UserView = Type.Object(
  { id: Type.String(), email: Type.String(), isPlatformOperator: Type.Boolean() },
  { additionalProperties: false },
);

export const SessionView = Type.Object(
  { token: Type.String(), expiresAt: Type.Integer(), user: UserView },
  { additionalProperties: false },
);

export const SetupBody = Type.Object(
  { setupToken: Type.String({ minLength: 1, maxLength: 128 }), email: Email, password: Password },
  { additionalProperties: false },
);

export const LoginBody = Type.Object({ email: Email, password: Password }, { additionalProperties: false });
