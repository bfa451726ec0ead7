/**
 * Hostile input against every operation the user service documents (the requests come from its
 * OpenAPI document, `hostileRequests` in `@tessera/kernel/testing`): overlong, NUL-carrying and
 * badly encoded path segments and query values, bodies that are not JSON objects or nest 10,000
 * deep, prototype-pollution keys, every property given a value of the wrong type. Sent as an
 * administrator so they reach validation. Each must be refused with a 4xx problem document whose
 * status matches, never a 5xx, and the service must still be up afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import {
  hostileRequests,
  problemDocumentExpected,
  sendHostile,
  type OpenApiDocument,
} from '@tessera/kernel/testing';
import { startUsersHarness, type Harness } from './test-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startUsersHarness();
});
afterAll(() => h.close());

describe('hostile input (user service)', () => {
  it('answers every hostile request with a 4xx problem document, never a 5xx', async () => {
    const doc = (await request(h.url).get('/openapi.json')).body as OpenApiDocument;
    const admin = await h.bearer({
      permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'],
      scope: 'internal',
    });
    const requests = hostileRequests(doc, {
      uuid: '0193a000-0000-7000-8000-000000000000',
      headers: { authorization: admin },
    });
    const report = await sendHostile(h.url, requests, problemDocumentExpected);
    expect(report.findings).toEqual([]);
    // Sanity: the document yielded the whole API's worth of requests, and they were refused.
    expect(report.sent).toBeGreaterThan(800);
    expect(report.statuses[400]).toBeGreaterThan(700);
    expect((await request(h.url).get('/livez')).status).toBe(200);
  }, 60_000);
});
