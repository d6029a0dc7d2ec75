// The citizen's account in a real browser: a caseworker registers someone (without a CURP) and
// prints an activation code on the profile; the person, on their own phone, opens /mi-cuenta,
// activates the account with the card number, the birth date and the code, chooses a password,
// and reads "who looked at my data": the caseworker's views of the profile, with the office and
// the role. A second view by the caseworker shows up when the person reloads.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, signInAsCaseworker, submitAndLoad, runSurname, register } = require('./browser.cjs');
const { seriousViolations } = require('./a11y.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

const views = (page) => page.locator('table.access-log tr[data-action="person.viewed"]').count();

test('a person activates their account with a printed code and sees the caseworker\'s views', async () => {
  const errors = [];
  const office = await browser.newContext();
  const caseworker = await office.newPage();
  caseworker.on('pageerror', (e) => errors.push(String(e)));
  await signInAsCaseworker(caseworker);
  await caseworker.goto(`${BASE}/oficina/personas/nueva`);
  const id = await register(caseworker, { given: 'Lucía', first: runSurname(), second: 'Mora', birth: '1982-06-15' });
  const card = (await caseworker.locator('section[aria-labelledby="identity"] code').first().innerText()).trim();
  assert.match(card, /^\d{4} \d{4} \d{2}$/);
  await submitAndLoad(caseworker, `/oficina/persona/${id}/codigo`,
    () => caseworker.click(`form[action="/oficina/persona/${id}/codigo"] button`));
  const code = (await caseworker.locator('code.activation-code').innerText()).trim();
  assert.match(code, /^[A-Z2-9]{5}-[A-Z2-9]{5}$/);

  // The person's phone: no staff session, a browser of its own.
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await phone.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${BASE}/mi-cuenta`);
  await Promise.all([page.waitForURL(`${BASE}/mi-cuenta/activar`), page.click('a[href="/mi-cuenta/activar"]')]);
  await page.fill('#f-card', card);
  await page.fill('#f-birth_date', '1982-06-15');
  await page.fill('#f-code', code.toLowerCase());
  await page.fill('#f-password', 'la bicicleta azul de mi abuela');
  await page.fill('#f-confirm', 'la bicicleta azul de mi abuela');
  await Promise.all([page.waitForURL(`${BASE}/mi-cuenta`), page.click('form[action="/mi-cuenta/activar"] button')]);

  assert.match(await page.locator('h1').innerText(), /Mi cuenta/);
  assert.match(await page.locator('dl.summary').innerText(), /Lucía/);
  const log = page.locator('table.access-log');
  assert.equal(await log.count(), 1, 'the access log is shown');
  const first = await views(page);
  assert.ok(first >= 1, 'the caseworker opened the profile');
  const row = await log.locator('tr[data-action="person.viewed"]').first().innerText();
  assert.match(row, /Trabajo social/, 'the role');
  assert.match(row, /Iztapalapa|Módulo|MOD/i, 'the office');
  assert.doesNotMatch(await log.innerText(), /demo\.trabajo/, 'never the staff member');
  // The signed-in account page passes the accessibility rules as the public pages do.
  assert.deepEqual(await seriousViolations(page), []);

  // The caseworker opens the profile again; the person reloads and sees it.
  await caseworker.goto(`${BASE}/oficina/persona/${id}`);
  await page.reload();
  assert.equal(await views(page), first + 1);

  await office.close();
  await phone.close();
  assert.deepEqual(errors, []);
});
