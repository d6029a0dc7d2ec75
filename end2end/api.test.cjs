// The agency API's clients: an administrator creates one at /admin/api and sees its credential
// once; an agency system calls the API with it; revoking it from the list stops the next call.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, signInAs } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

/// Waits for the page's form post to /admin/api to be answered and its page loaded.
async function posted(page) {
  await page.waitForResponse((r) => r.url() === `${BASE}/admin/api` && r.request().method() === 'POST');
  await page.waitForLoadState();
}

/// A call of the agency API as an agency system makes it (Node's fetch, no browser).
async function call(credential, path) {
  const response = await fetch(`${BASE}${path}`, {
    headers: { authorization: `Bearer ${credential}` },
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

test('an administrator creates an API client, the agency system calls the API, revoking stops it', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAs(page, 'demo.admin', '/admin');
  await Promise.all([page.waitForURL(`${BASE}/admin/api`), page.click('a[href="/admin/api"]')]);
  assert.equal(await page.locator('h1').innerText(), 'Clientes de la API de dependencias');

  const iaam = await page.locator('#f-agency option', { hasText: 'IAAM' }).getAttribute('value');
  await page.selectOption('#f-agency', iaam);
  await page.fill('#f-name', 'Padrón de pensiones (prueba)');
  await page.fill('#f-days', '30');
  await Promise.all([posted(page), page.click('form[action="/admin/api"] button[type="submit"]:not(.danger)')]);
  const credential = (await page.locator('code.api-credential').innerText()).trim();
  assert.match(credential, /^angel_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  const row = page.locator('tr', { hasText: 'Padrón de pensiones (prueba)' });
  assert.match(await row.innerText(), /Vigente/);

  const listed = await call(credential, '/api/v1/enrollments?limit=5');
  assert.equal(listed.status, 200);
  assert.ok(Array.isArray(listed.body.items));

  // The credential is not on the page once it is left.
  await page.goto(`${BASE}/admin/api`);
  assert.equal(await page.locator('code.api-credential').count(), 0);
  assert.ok(!(await page.content()).includes(credential.slice(20)));

  await Promise.all([
    posted(page),
    page.locator('tr', { hasText: 'Padrón de pensiones (prueba)' }).locator('button.danger').click(),
  ]);
  assert.match(await page.locator('tr', { hasText: 'Padrón de pensiones (prueba)' }).innerText(), /Revocado/);
  const refused = await call(credential, '/api/v1/enrollments');
  assert.equal(refused.status, 401);
  assert.equal(refused.type, 'application/problem+json');
  assert.equal(refused.body.type, '/api/v1/problems/unauthorized');
  await context.close();
});
