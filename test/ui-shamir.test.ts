/**
 * The web UI on a Shamir-sealed server (file storage, ui = true) in headless chromium: initialise with two key
 * holders' PGP public key files (one armoured, one binary), whose shares come back encrypted to them; the holders
 * decrypt their shares and unseal through the unseal form (with a reset in between).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { SHAMIR_FILE_CONFIG, TestServer } from './helpers/server.ts';
import { pgpDecrypt, pgpPair } from './recovery-helpers.ts';
import { assertCleanConsole, checkAccessibility, openBrowser, step, type UiSession } from './helpers/browser.ts';

describe('web UI on the Shamir seal: init with PGP key files, unseal with progress and reset', () => {
  let server: TestServer;
  let ui: UiSession;

  before(async () => {
    server = await TestServer.start({ config: `${SHAMIR_FILE_CONFIG}ui = true\n` });
    ui = await openBrowser();
  });
  after(async () => {
    await ui?.close();
    await server?.kill();
    server?.cleanup();
  });

  it('encrypts each share to its holder, and the decrypted shares unseal through the form', async () => {
    const { page } = ui;
    const holders = [await pgpPair('ann'), await pgpPair('ben')];
    const armoured = path.join(server.dir, 'ann.asc');
    const binary = path.join(server.dir, 'ben.gpg');
    const annPublic = await openpgp.readKey({ binaryKey: new Uint8Array(Buffer.from(holders[0].publicB64, 'base64')) });
    fs.writeFileSync(armoured, annPublic.armor());
    fs.writeFileSync(binary, Buffer.from(holders[1].publicB64, 'base64'));
    let shares: string[] = [];
    await step(page, 'shamir-pgp-init', async () => {
      await page.goto(`${server.api.addr}/ui/`);
      await page.getByRole('heading', { name: 'Initialise Tresor' }).waitFor();
      await page.getByLabel('Key shares').fill('2');
      await page.getByLabel('Key threshold').fill('2');
      await page.getByLabel(/PGP public keys/).setInputFiles([armoured, binary]);
      await page.getByText('2 key file(s)').waitFor();
      await page.getByRole('button', { name: 'Initialise' }).click();
      await page.getByRole('heading', { name: 'Tresor is initialised' }).waitFor();
      shares = await page.getByTestId('init-key').allTextContents();
      assert.equal(shares.length, 2);
      await page.getByRole('button', { name: 'I have saved them: continue' }).click();
      await page.getByRole('heading', { name: 'Unseal Tresor' }).waitFor();
    });
    const plain = [await pgpDecrypt(shares[0], holders[0].privateKey), await pgpDecrypt(shares[1], holders[1].privateKey)];
    assert.notEqual(plain[0], plain[1]);

    await step(page, 'shamir-unseal', async () => {
      await checkAccessibility(page, 'the Shamir unseal form');
      await page.getByLabel('Unseal key').fill(plain[0]);
      await page.getByRole('button', { name: 'Submit key' }).click();
      await page.getByTestId('progress').getByText('1 of 2').waitFor();
      await page.getByRole('button', { name: 'Reset progress' }).click();
      await page.getByTestId('progress').getByText('0 of 2').waitFor();
      assert.equal((await server.api.get('sys/seal-status')).body.progress, 0);
      for (const key of plain) {
        await page.getByLabel('Unseal key').fill(key);
        await page.getByRole('button', { name: 'Submit key' }).click();
      }
      // Unsealed: the root token shown at init is in this tab's session, so Status comes up.
      await page.getByRole('heading', { name: 'Status' }).waitFor();
    });
    assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
    assertCleanConsole(ui.console, plain);
  });
});
