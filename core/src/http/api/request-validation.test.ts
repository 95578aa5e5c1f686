import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { RequestValidators } from './request-validation.js';

/** Request bodies that fail a union say once what is allowed, not once per branch (issue 16 §2). */

const validators = new RequestValidators();
const policy = validators.compile(
  'body',
  Type.Object(
    {
      trigger: Type.Union([Type.Literal('manual'), Type.Literal('scheduled'), Type.Literal('event')]),
      chunkSize: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    },
    { additionalProperties: false },
  ),
);

function refusal(body: unknown): string {
  try {
    policy(body);
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail('accepted');
}

describe('request validation messages', () => {
  it('a bad value of a union of literals lists the allowed values once', () => {
    assert.equal(refusal({ trigger: 'sometimes' }), 'invalid body: /trigger: must be one of "manual", "scheduled", "event"');
  });

  it('a value of none of the types of a union names the types', () => {
    assert.equal(refusal({ trigger: 'manual', chunkSize: 'big' }), 'invalid body: /chunkSize: must be integer or null');
  });

  it('a branch that matched the type and failed inside reports its own problem', () => {
    assert.equal(refusal({ trigger: 'manual', chunkSize: 0 }), 'invalid body: /chunkSize: must be >= 1');
  });
});
