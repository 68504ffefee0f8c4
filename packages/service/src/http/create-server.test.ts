import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { MAX_API_BODY_BYTES } from '@orbis/protocol';
import { ServiceError } from '../errors.ts';
import { registerHealthRoutes } from '../health/health.routes.ts';
import { createServer } from './create-server.ts';

describe('the HTTP server defaults', () => {
  let app: FastifyInstance;
  let storageUp = true;

  before(async () => {
    app = createServer({ logLevel: 'silent' });
    registerHealthRoutes(app, {
      checkStorage: () => (storageUp ? Promise.resolve() : Promise.reject(new Error('db down'))),
      isClosing: () => false,
    });
    const Body = Type.Object(
      { name: Type.String({ maxLength: 8 }), count: Type.Integer() },
      { additionalProperties: false },
    );
    app.post('/echo', { schema: { body: Body } }, (request) => request.body);
    app.get('/refuse', () => {
      throw new ServiceError('AUTH_FORBIDDEN', 'Readers cannot change devices');
    });
    app.get('/crash', () => {
      throw new Error('SELECT secret FROM keys failed at db.ts:42');
    });
    await app.ready();
  });
  after(() => app.close());

  const post = (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/echo', payload, headers: { 'content-type': contentType } });

  it('answers health and readiness, and reports storage that does not answer', async () => {
    assert.equal((await app.inject('/healthz')).statusCode, 200);
    assert.deepEqual((await app.inject('/readyz')).json(), { status: 'ready' });
    storageUp = false;
    assert.equal((await app.inject('/readyz')).statusCode, 503);
    storageUp = true;
  });

  it('refuses unknown fields instead of stripping them', async () => {
    const response = await post(JSON.stringify({ name: 'a', count: 1, admin: true }));
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<{ code: string }>().code, 'REQUEST_INVALID');
  });

  it('refuses wrong types instead of coercing them', async () => {
    const response = await post(JSON.stringify({ name: 'a', count: '1' }));
    assert.equal(response.json<{ code: string }>().code, 'REQUEST_INVALID');
    assert.deepEqual((await post(JSON.stringify({ name: 'a', count: 1 }))).json(), { name: 'a', count: 1 });
  });

  it('answers malformed JSON with 400 and an oversized body with 413, each with a code', async () => {
    const malformed = await post('{"name": ');
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json<{ code: string }>().code, 'REQUEST_INVALID');
    const huge = await post(JSON.stringify({ name: 'x'.repeat(MAX_API_BODY_BYTES), count: 1 }));
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json<{ code: string }>().code, 'REQUEST_TOO_LARGE');
    const text = await post('name=a', 'text/plain');
    assert.equal(text.statusCode, 415);
    assert.equal(text.json<{ code: string }>().code, 'REQUEST_UNSUPPORTED_MEDIA_TYPE');
  });

  it('maps catalogued errors to their status and unknown routes to NOT_FOUND', async () => {
    const refused = await app.inject('/refuse');
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(Object.keys(refused.json<object>()).sort(), ['code', 'message', 'requestId']);
    assert.equal((await app.inject('/nowhere')).json<{ code: string }>().code, 'NOT_FOUND');
  });

  it('answers an internal failure with a bare 500 that leaks nothing but a request ID', async () => {
    const response = await app.inject('/crash');
    assert.equal(response.statusCode, 500);
    const body = response.json<{ code: string; message: string; requestId: string }>();
    assert.equal(body.code, 'INTERNAL');
    assert.doesNotMatch(response.body, /SELECT|secret|db\.ts|at /);
    assert.equal(response.headers['x-request-id'], body.requestId);
  });

  it('generates request IDs itself, ignoring one a client sends', async () => {
    const response = await app.inject({
      url: '/healthz',
      headers: { 'request-id': 'forged', 'x-request-id': 'forged' },
    });
    assert.notEqual(response.headers['x-request-id'], 'forged');
  });
});
