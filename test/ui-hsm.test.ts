/**
 * The web UI on a real server sealed by a SoftHSM2 token, in a real (headless) chromium: initialise under the
 * HSM seal through the form, sign in with the root token, watch the HSM panel go unhealthy when the token
 * directory is taken away and healthy again when it returns, seal from the operator page and unseal with
 * recovery keys through the unseal form. axe-core checks each page on the way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { TestServer } from './helpers/server.ts';
import { createSoftHsmToken, hsmServerConfig, type SoftHsmToken } from './helpers/softhsm.ts';
import { assertCleanConsole, checkAccessibility, openBrowser, step, UI_TIMEOUT, type UiSession } from './helpers/browser.ts';

describe('web UI on the HSM seal: init, sign in, HSM health, seal and unseal with recovery keys', () => {
  let token: SoftHsmToken;
  let server: TestServer;
  let ui: UiSession;
  let base: string;
  let rootToken = '';
  const recoveryKeys: string[] = [];

  before(async () => {
    token = createSoftHsmToken();
    server = await TestServer.start({
      config: `${hsmServerConfig(token)}ui = true\n`,
      env: { ...token.env, VAULT_HSM_PIN: token.pin, TRESOR_HSM_HEARTBEAT_MS: '300' },
    });
    await server.waitFor('pkcs11 seal opened', 20_000);
    base = `http://127.0.0.1:${server.port}`;
    ui = await openBrowser();
  });
  after(async () => {
    await ui?.close();
    await server?.kill();
    server?.cleanup();
    if (token && fs.existsSync(`${token.tokenDir}.away`)) fs.renameSync(`${token.tokenDir}.away`, token.tokenDir);
    token?.cleanup();
  });

  it('initialises with recovery shares through the form and shows the keys and root token once', async () => {
    const { page } = ui;
    await step(page, 'hsm-init', async () => {
      await page.goto(`${base}/`);
      assert.match(page.url(), /\/ui\/$/);
      await page.getByRole('heading', { name: 'Initialise Tresor' }).waitFor();
      await checkAccessibility(page, 'the init form');
      await page.getByLabel('Recovery key shares').fill('3');
      await page.getByLabel('Recovery key threshold').fill('2');
      await page.getByRole('button', { name: 'Initialise' }).click();
      await page.getByRole('heading', { name: 'Tresor is initialised' }).waitFor();
      const keys = await page.getByTestId('init-key').allTextContents();
      assert.equal(keys.length, 3);
      recoveryKeys.push(...keys);
      rootToken = (await page.getByTestId('root-token').textContent()) ?? '';
      assert.match(rootToken, /^hvs\./);
      await checkAccessibility(page, 'the init result');
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download keys as JSON' }).click();
      const saved = JSON.parse(fs.readFileSync((await (await download).path())!, 'utf8'));
      assert.equal(saved.root_token, rootToken);
      assert.deepEqual(saved.recovery_keys_base64 ?? saved.recovery_keys_b64, keys);
    });
    const status = await server.api.get('sys/seal-status');
    assert.equal(status.body.initialized, true);
    assert.equal(status.body.recovery_seal, true);
  });

  it('signs in with the token form after signing out, keeping the token in sessionStorage only', async () => {
    const { page } = ui;
    await step(page, 'hsm-sign-in', async () => {
      await page.getByRole('button', { name: 'I have saved them: continue' }).click();
      await page.getByRole('heading', { name: 'Status' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await checkAccessibility(page, 'the sign-in page');
      // A wrong token: the server's 403 message beside the field, still signed out.
      await page.getByLabel('Token').fill('hvs.not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('permission denied').waitFor();
      await page.getByLabel('Token').fill(rootToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Status' }).waitFor();
      const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('tresor.token'), local: localStorage.length, url: location.href }));
      assert.equal(stored.session, rootToken);
      assert.equal(stored.local, 0);
      assert.ok(!stored.url.includes(rootToken));
    });
  });

  it('shows the HSM healthy, unhealthy while the token directory is away, and healthy again when it returns', async () => {
    const { page } = ui;
    const health = page.getByTestId('hsm-health');
    await step(page, 'hsm-health', async () => {
      await page.getByRole('heading', { name: 'HSM', exact: true }).waitFor();
      await health.getByText('HSM healthy').waitFor();
      // This server has no sys/metrics yet (404): the chart says where its figures will come from.
      if ((await server.api.get('sys/metrics?format=prometheus', rootToken)).status === 404) {
        await page.getByText('Latency and error figures appear here when the server offers HSM metrics at sys/metrics.').waitFor();
      }
      await checkAccessibility(page, 'the status page');
      fs.renameSync(token.tokenDir, `${token.tokenDir}.away`);
      await health.getByText('HSM UNHEALTHY').waitFor({ timeout: 45_000 });
      assert.match((await health.textContent()) ?? '', /since/);
      // Every page says so too, in words.
      await page.getByRole('alert').filter({ hasText: 'HSM unhealthy since' }).waitFor();
      // Impossible to miss: the panel is announced as a status and carries text, not colour alone.
      assert.equal(await health.getAttribute('role'), 'status');
      await checkAccessibility(page, 'the status page, HSM unhealthy');
      fs.renameSync(`${token.tokenDir}.away`, token.tokenDir);
      await health.getByText('HSM healthy').waitFor({ timeout: 60_000 });
      await page.getByRole('alert').filter({ hasText: 'HSM unhealthy' }).waitFor({ state: 'detached' });
    });
  });

  it('seals from the operator page and unseals with two recovery keys through the form, with progress', async () => {
    const { page } = ui;
    await step(page, 'hsm-seal-unseal', async () => {
      await page.getByRole('link', { name: 'Operator' }).click();
      await page.getByRole('heading', { name: 'Operator' }).waitFor();
      await checkAccessibility(page, 'the operator page');
      const term = (await server.api.get('sys/key-status', rootToken)).body.term;
      await page.getByRole('button', { name: 'Rotate barrier key' }).click();
      await page.getByRole('button', { name: 'Yes, rotate barrier key' }).click();
      await page.getByText(`Barrier key rotated: term ${term + 1}.`).waitFor();
      await page.getByRole('button', { name: 'Seal', exact: true }).click();
      await page.getByRole('button', { name: 'Yes, seal' }).click();
      await page.getByRole('heading', { name: 'Unseal Tresor' }).waitFor();
      await page.getByRole('alert').filter({ hasText: 'SEALED' }).waitFor();
      assert.equal((await server.api.get('sys/seal-status')).body.sealed, true);
      await checkAccessibility(page, 'the unseal form');

      await page.getByLabel('Recovery key').fill('not-a-key');
      await page.getByRole('button', { name: 'Submit key' }).click();
      await page.locator('.field-error').waitFor();
      assert.equal((await server.api.get('sys/seal-status')).body.progress, 0);

      await page.getByLabel('Recovery key').fill(recoveryKeys[0]);
      await page.getByRole('button', { name: 'Submit key' }).click();
      await page.getByTestId('progress').getByText('1 of 2').waitFor();
      assert.equal(await page.locator('progress').getAttribute('value'), '1');
      await page.getByLabel('Recovery key').fill(recoveryKeys[2]);
      await page.getByRole('button', { name: 'Submit key' }).click();
      await page.getByRole('heading', { name: 'Status' }).waitFor({ timeout: UI_TIMEOUT });
    });
    assert.equal((await server.api.get('sys/seal-status')).body.sealed, false);
    assertCleanConsole(ui.console, [rootToken, ...recoveryKeys]);
  });

  it('generates a root token with recovery keys (the OTP kept and applied in the browser), then rekeys the recovery keys', async () => {
    const { page } = ui;
    let newRoot = '';
    await step(page, 'hsm-generate-root-rekey', async () => {
      await page.getByRole('link', { name: 'Operator' }).click();
      await page.getByRole('button', { name: 'Start generate-root' }).click();
      const form = page.getByRole('form', { name: 'Generate root: submit a key' });
      await form.getByTestId('progress').getByText('0 of 2').waitFor();
      await checkAccessibility(page, 'generate-root in progress');
      await form.getByLabel('Recovery key').fill(recoveryKeys[1]);
      await form.getByRole('button', { name: 'Submit key' }).click();
      await form.getByTestId('progress').getByText('1 of 2').waitFor();
      await form.getByLabel('Recovery key').fill(recoveryKeys[2]);
      await form.getByRole('button', { name: 'Submit key' }).click();
      await page.getByRole('button', { name: 'Reveal new root token' }).click();
      newRoot = (await page.locator('#generate-root-h ~ div code').first().textContent()) ?? '';
      assert.match(newRoot, /^hvs\./);
      await page.getByRole('button', { name: 'Done' }).click();

      // Rekey the recovery keys: 2 of the old ones authorise a new split of 2 shares, threshold 2.
      const start = page.getByRole('form', { name: 'Start rekey' });
      await start.getByLabel('New key shares').fill('2');
      await start.getByLabel('New key threshold').fill('2');
      await start.getByRole('button', { name: 'Start rekey' }).click();
      const submit = page.getByRole('form', { name: 'Rekey: submit a key' });
      await submit.getByLabel('Current recovery key').fill(recoveryKeys[0]);
      await submit.getByRole('button', { name: 'Submit key' }).click();
      await submit.getByTestId('progress').getByText('1 of 2').waitFor();
      await submit.getByLabel('Current recovery key').fill(recoveryKeys[1]);
      await submit.getByRole('button', { name: 'Submit key' }).click();
      await page.getByText('The new recovery keys are shown once.').waitFor();
      assert.equal(await page.locator('#rekey-h ~ div ol code').count(), 2);
      await checkAccessibility(page, 'the new recovery keys');
    });
    const looked = await server.api.get('auth/token/lookup-self', newRoot);
    assert.equal(looked.status, 200);
    assert.deepEqual(looked.body.data.policies, ['root']);
    assert.equal((await server.api.get('sys/seal-status')).body.n, 2);
    assertCleanConsole(ui.console, [rootToken, newRoot, ...recoveryKeys]);
  });
});
