import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateRootFor, ROOT_TOKEN_OTP_LENGTH } from './generate-root.ts';
import { decodeToken } from './otp.ts';
import { MAX_STARTS_PER_WINDOW } from './recovery-ops.ts';
import { pgpDecrypt, pgpPair, recordingLogger, rejectsWith, restarted, shamirCore, unsealWith } from '../../test/recovery-helpers.ts';
import type { Core } from './core.ts';

/** Asserts `token` authenticates as a root token on `core`. */
async function assertRootToken(core: Core, token: string): Promise<void> {
  const caller = await core.unsealed().authenticate(token);
  assert.deepEqual(caller.entry.policies, ['root']);
}

describe('generate-root', () => {
  it('reports no attempt, the threshold and the OTP length before a start', async () => {
    const { core } = await shamirCore();
    const status = await generateRootFor(core).status();
    assert.deepEqual(status, {
      started: false, nonce: '', progress: 0, required: 2, encoded_token: '', encoded_root_token: '',
      pgp_fingerprint: '', otp_length: ROOT_TOKEN_OTP_LENGTH, otp: '', complete: false,
    });
  });

  it('a start without otp or pgp_key returns a base62 OTP once; the quorum yields a token it decodes to', async () => {
    const { core, keys } = await shamirCore();
    const gen = generateRootFor(core);
    const started = await gen.start({});
    assert.equal(started.started, true);
    assert.match(started.otp, /^[A-Za-z0-9]{28}$/);
    assert.equal((await gen.status()).otp, '', 'the OTP is shown only in the start answer');

    const first = await gen.update({ key: keys[0], nonce: started.nonce });
    assert.equal(first.complete, false);
    assert.equal(first.progress, 1);
    const done = await gen.update({ key: keys[2], nonce: started.nonce });
    assert.equal(done.complete, true);
    assert.equal(done.started, true);
    assert.equal(done.progress, 2);
    assert.equal(done.encoded_root_token, done.encoded_token);
    const token = decodeToken(done.encoded_token, started.otp);
    assert.match(token, /^hvs\.[A-Za-z0-9]{24}$/);
    await assertRootToken(core, token);
    assert.equal((await gen.status()).started, false, 'a completed attempt is over');
  });

  it('a caller-supplied OTP of the right length is used and not echoed back', async () => {
    const { core, keys } = await shamirCore();
    const gen = generateRootFor(core);
    const otp = 'A'.repeat(14) + 'b'.repeat(14);
    const started = await gen.start({ otp });
    assert.equal(started.otp, '');
    await gen.update({ key: keys[1], nonce: started.nonce });
    const done = await gen.update({ key: keys[0], nonce: started.nonce });
    await assertRootToken(core, decodeToken(done.encoded_token, otp));
  });

  it('with pgp_key the token is PGP-encrypted and the fingerprint reported', async () => {
    const { core, keys } = await shamirCore();
    const pair = await pgpPair('root-holder');
    const gen = generateRootFor(core);
    const started = await gen.start({ pgp_key: pair.publicB64 });
    assert.equal(started.pgp_fingerprint, pair.fingerprint);
    assert.equal(started.otp, '');
    await gen.update({ key: keys[0], nonce: started.nonce });
    const done = await gen.update({ key: keys[1], nonce: started.nonce });
    assert.equal(done.pgp_fingerprint, pair.fingerprint);
    await assertRootToken(core, await pgpDecrypt(done.encoded_token, pair.privateKey));
  });

  it('refuses bad starts without starting anything', async () => {
    const { core } = await shamirCore();
    const gen = generateRootFor(core);
    await rejectsWith(gen.start({ otp: 'tooShort' }), 400, /otp must be 28 characters/);
    await rejectsWith(gen.start({ pgp_key: Buffer.from('not a key').toString('base64') }), 400, /not a valid OpenPGP key/);
    await rejectsWith(gen.start({ pgp_key: '%%%' }), 400, /not valid base64/);
    const pair = await pgpPair('both');
    await rejectsWith(gen.start({ otp: 'x'.repeat(28), pgp_key: pair.publicB64 }), 400, /only one of otp and pgp_key/);
    assert.equal((await gen.status()).started, false);
  });

  it('refuses a second start while one is in progress, and allows a new one after cancel', async () => {
    const { core, keys } = await shamirCore();
    const gen = generateRootFor(core);
    const first = await gen.start({});
    await gen.update({ key: keys[0], nonce: first.nonce });
    await rejectsWith(gen.start({}), 400, 'root generation already in progress');
    await gen.cancel({ nonce: first.nonce });
    assert.equal((await gen.status()).started, false);
    const second = await gen.start({});
    assert.notEqual(second.nonce, first.nonce);
    assert.equal(second.progress, 0, 'cancelling discards collected shares');
    await rejectsWith(gen.update({ key: keys[1], nonce: first.nonce }), 400, /incorrect nonce/);
    await gen.update({ key: keys[0], nonce: second.nonce });
    const done = await gen.update({ key: keys[1], nonce: second.nonce });
    await assertRootToken(core, decodeToken(done.encoded_token, second.otp));
  });

  it('refuses updates with no attempt, a wrong or missing nonce, a duplicate or malformed share', async () => {
    const { core, keys } = await shamirCore();
    const gen = generateRootFor(core);
    await rejectsWith(gen.update({ key: keys[0], nonce: 'x' }), 400, /no root generation in progress/);
    const { nonce } = await gen.start({});
    await rejectsWith(gen.update({ key: keys[0], nonce: 'not-the-nonce' }), 400, /incorrect nonce/);
    await rejectsWith(gen.update({ key: keys[0] }), 400, /'nonce' must be specified/);
    await rejectsWith(gen.update({ nonce }), 400, /'key' must be specified/);
    await rejectsWith(gen.update({ key: 'zz!!not-a-share', nonce }), 400, /valid hex or base64/);
    await gen.update({ key: keys[0], nonce });
    await rejectsWith(gen.update({ key: keys[0], nonce }), 400, /duplicate/);
    assert.equal((await gen.status()).progress, 1);
  });

  it('shares of another key set give 400, reset progress and create no token', async () => {
    const { core, keys } = await shamirCore();
    const other = await shamirCore();
    const gen = generateRootFor(core);
    const { nonce, otp } = await gen.start({});
    await gen.update({ key: other.keys[0], nonce });
    await rejectsWith(gen.update({ key: other.keys[1], nonce }), 400, /do not reconstruct the root key/);
    const after = await gen.status();
    assert.equal(after.progress, 0);
    assert.equal(after.nonce, nonce, 'the attempt itself survives');
    // The same attempt then completes with the right shares.
    await gen.update({ key: keys[0], nonce });
    const done = await gen.update({ key: keys[1], nonce });
    await assertRootToken(core, decodeToken(done.encoded_token, otp));
  });

  it('a base64 share (keys_base64 form) counts like its hex form', async () => {
    const { core, keys } = await shamirCore();
    const gen = generateRootFor(core);
    const { nonce } = await gen.start({});
    await gen.update({ key: Buffer.from(keys[0]!, 'hex').toString('base64'), nonce });
    await rejectsWith(gen.update({ key: keys[0], nonce }), 400, /duplicate/);
  });

  it('answers 503 while sealed and drops an attempt begun before a seal', async () => {
    const { core, keys } = await shamirCore();
    const gen = generateRootFor(core);
    await gen.start({});
    await core.seal();
    await rejectsWith(gen.status(), 503, /sealed/);
    await rejectsWith(gen.start({}), 503, /sealed/);
    await unsealWith(core, keys.slice(0, 2));
    assert.equal((await gen.status()).started, false);
  });

  it('cancel needs the attempt\'s nonce: missing or wrong is a 400 that keeps the attempt and its progress (logged, nonce not shown)', async () => {
    const logger = recordingLogger();
    const { core, keys } = await shamirCore(logger);
    const gen = generateRootFor(core);
    await gen.cancel({}); // nothing in progress: nothing to refuse
    const { nonce } = await gen.start({});
    await gen.update({ key: keys[0], nonce });
    await rejectsWith(gen.cancel({}), 400, "'nonce' must be specified for this root generation operation");
    await rejectsWith(gen.cancel({ nonce: 'someone-elses-guess' }), 400, 'incorrect nonce supplied for this root generation operation');
    const kept = await gen.status();
    assert.equal(kept.nonce, nonce);
    assert.equal(kept.progress, 1);
    const log = logger.lines.join('\n');
    assert.match(log, /generate-root: cancel from unknown refused: no nonce given/);
    assert.match(log, /generate-root: cancel from unknown refused: wrong nonce given/);
    assert.ok(!log.includes('someone-elses-guess'));
    await gen.cancel({ nonce });
    assert.equal((await gen.status()).started, false);
  });

  it(`limits starts and cancels to ${MAX_STARTS_PER_WINDOW} a minute per client address with a 429; other addresses are unaffected`, async () => {
    const logger = recordingLogger();
    const { core } = await shamirCore(logger);
    const gen = generateRootFor(core);
    for (let i = 0; i < MAX_STARTS_PER_WINDOW / 2; i++) {
      const { nonce } = await gen.start({}, '192.0.2.7');
      await gen.cancel({ nonce }, '192.0.2.7');
    }
    await rejectsWith(gen.start({}, '192.0.2.7'), 429, /too many generate-root attempts started or cancelled from this address/);
    await rejectsWith(gen.start({}, '::ffff:192.0.2.7'), 429, /too many/);
    assert.equal((await gen.status()).started, false);
    assert.match(logger.lines.join('\n'), /generate-root: start refused from 192\.0\.2\.7: too many starts and cancels/);
    // An operator elsewhere still starts, and the limited client cannot cancel it either.
    const operator = await gen.start({}, '198.51.100.1');
    await rejectsWith(gen.cancel({ nonce: operator.nonce }, '192.0.2.7'), 429, /too many/);
    assert.equal((await gen.status()).nonce, operator.nonce);
  });

  it('logs start, cancel and completion without the OTP, token or shares', async () => {
    const logger = recordingLogger();
    const { core, keys } = await shamirCore(logger);
    const gen = generateRootFor(core);
    const first = await gen.start({});
    await gen.cancel({ nonce: first.nonce });
    const started = await gen.start({});
    await gen.update({ key: keys[0], nonce: started.nonce });
    const done = await gen.update({ key: keys[1], nonce: started.nonce });
    const token = decodeToken(done.encoded_token, started.otp);
    const log = logger.lines.join('\n');
    assert.match(log, /attempt started/);
    assert.match(log, /attempt cancelled/);
    assert.match(log, /root token generated/);
    for (const secret of [started.otp, token, done.encoded_token, keys[0]!, keys[1]!]) assert.ok(!log.includes(secret));
  });

  it('a restart mid-attempt forgets it; the old keys still unseal and nothing changed', async () => {
    const { core, physical, keys } = await shamirCore();
    const { nonce } = await generateRootFor(core).start({});
    await generateRootFor(core).update({ key: keys[0], nonce });
    await core.shutdown();
    const again = restarted(physical);
    await unsealWith(again, [keys[1]!, keys[2]!]);
    assert.equal((await generateRootFor(again).status()).started, false);
  });
});
