import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { AuditSalt } from './hash.ts';
import { EntryFormatter, type AuditRecord } from './format.ts';
import { toJsonx } from './jsonx.ts';
import { formatOptions } from './types.ts';

const salt = Buffer.from('0123456789abcdef');
const h = (s: string) => `hmac-sha256:${createHmac('sha256', salt).update(s).digest('hex')}`;
const record = (data: Record<string, unknown>): AuditRecord => ({ id: 'id-1', operation: 'list', path: 'kv/', data, token: 'tok', requestLogged: false });

describe('audit entry format', () => {
  it('hashes every string at any depth, keeps numbers, booleans, null and keys; a "__proto__" key stays a key', () => {
    const s = new AuditSalt(salt);
    const data = JSON.parse('{"a":"x","n":3,"b":true,"z":null,"l":["y",{"k":"w"}],"__proto__":{"p":"q"}}');
    const out = s.hashValue(data) as Record<string, any>;
    assert.equal(out.a, h('x'));
    assert.deepEqual(out.l, [h('y'), { k: h('w') }]);
    assert.equal(out.n, 3);
    assert.equal(out.b, true);
    assert.equal(out.z, null);
    assert.ok(Object.hasOwn(out, '__proto__'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(data.a, 'x', 'the input is not changed');
  });

  it('omits empty fields, hashes tokens; log_raw keeps them; elide_list_responses counts keys', () => {
    const hashed = new EntryFormatter(new AuditSalt(salt), formatOptions({ elide_list_responses: 'true' }));
    const req = JSON.parse(hashed.requestLine(record({}), 't'));
    assert.deepEqual(req, { time: 't', type: 'request', auth: { client_token: h('tok') }, request: { id: 'id-1', operation: 'list', client_token: h('tok'), namespace: { id: 'root' }, path: 'kv/' } });
    const body = { request_id: 'r', lease_id: '', wrap_info: null, auth: null, warnings: null, data: { keys: ['a', 'b', 'c'] } };
    const res = JSON.parse(hashed.responseLine(record({}), 't', { status: 200, body }, undefined));
    assert.equal(res.response.data.keys, 3);
    const raw = new EntryFormatter(new AuditSalt(salt), formatOptions({ log_raw: 'true', prefix: 'P' }));
    const line = raw.requestLine(record({ s: 'v' }), 't');
    assert.ok(line.startsWith('P{') && line.endsWith('\n'));
    assert.equal(JSON.parse(line.slice(1)).request.data.s, 'v');
  });

  it('jsonx renders objects, arrays and scalars with names, escaped', () => {
    assert.equal(
      toJsonx({ a: 'x<y', n: 1, l: [true, null] }),
      '<?xml version="1.0" encoding="UTF-8"?><json:object xsi:schemaLocation="http://www.datapower.com/schemas/json jsonx.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:json="http://www.ibm.com/xmlns/prod/2009/jsonx">' +
        '<json:string name="a">x&lt;y</json:string><json:number name="n">1</json:number><json:array name="l"><json:boolean>true</json:boolean><json:null/></json:array></json:object>',
    );
  });
});
