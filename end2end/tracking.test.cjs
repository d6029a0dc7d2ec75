// A request across agencies in a real browser: a caseworker registers someone and requests the
// community kitchens (COMCOM, open to everyone, run by SEDESO); the demo SEDESO staff member
// finds it in the agency queue (filtered by program), opens it, and moves it requested →
// in_review → approved → active with a reason each time; back at the office, the person's
// timeline shows the four statuses, newest first; and the person, in a browser without
// JavaScript, follows the request at /seguimiento with the folio and her birth date.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, signInAs, signInAsCaseworker, submitAndLoad, runSurname, register } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('a request goes from requested to active through the agency queue and shows on the timeline', async () => {
  const errors = [];
  const office = await browser.newContext();
  const page = await office.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await signInAsCaseworker(page);

  await page.goto(`${BASE}/oficina/personas/nueva`);
  const person = await register(page, { given: 'Marta', first: runSurname(), second: 'Ruiz', birth: '1975-08-09' });

  await page.goto(`${BASE}/oficina/persona/${person}/que-paso?evento=ALIMENTACION`);
  await page.check(`input[name="pick"][data-program="COMCOM"][data-beneficiary="${person}"]`);
  await Promise.all([page.waitForURL(/\/recibo\?ids=\d+$/), page.click('section.request button[type="submit"]')]);
  const folio = (await page.locator('code.folio').first().innerText()).trim();
  assert.match(folio, /^COMCOM-\d{2}-\d{6}-[0-9A-Z]$/);

  // The agency: its queue, filtered by program, has the request; open it from there.
  const agency = await browser.newContext();
  const staff = await agency.newPage();
  staff.on('pageerror', (e) => errors.push(String(e)));
  await signInAs(staff, 'demo.dependencia', '/agencia');
  await staff.selectOption('select[name="programa"]', 'COMCOM');
  await Promise.all([staff.waitForURL(/programa=COMCOM/), staff.click('form.filter button[type="submit"]')]);
  const row = staff.locator(`tr[data-folio="${folio}"]`);
  assert.equal(await row.count(), 1, 'the request is in the queue');
  await Promise.all([staff.waitForURL(/\/agencia\/solicitud\/\d+$/), row.locator('a').first().click()]);
  const status = staff.locator('dd.status');
  assert.equal(await status.getAttribute('data-status'), 'requested');

  for (const [to, reason] of [['in_review', 'review_started'], ['approved', 'meets_requirements'], ['active', 'benefit_started']]) {
    const form = staff.locator(`form.decision[data-to="${to}"]`);
    await form.locator('select[name="reason"]').selectOption(reason);
    await submitAndLoad(staff, '/agencia/solicitud/', () => form.locator('button[type="submit"]').click());
    assert.equal(await status.getAttribute('data-status'), to, `moved to ${to}`);
  }
  // Active: the history lists the four statuses, and only the moves from `active` remain.
  assert.equal(await staff.locator('ol.history li').count(), 4);
  assert.deepEqual(
    (await staff.locator('form.decision').evaluateAll((fs) => fs.map((f) => f.dataset.to))).sort(),
    ['exited', 'suspended'],
  );

  // Back at the office: the timeline, newest first.
  await page.goto(`${BASE}/oficina/persona/${person}/historial`);
  const entries = page.locator('li.entry[data-kind="status"]');
  assert.equal(await entries.count(), 4);
  assert.match(await entries.first().innerText(), /Aprobada → Activa/);
  assert.match(await entries.last().innerText(), /Solicitada/);
  assert.match(await page.locator('ol.timeline').innerText(), new RegExp(folio));

  // The citizen, without JavaScript: folio as typed (lower case) and birth date → the history,
  // without her name.
  const citizen = await browser.newContext({ javaScriptEnabled: false });
  const phone = await citizen.newPage();
  await phone.goto(`${BASE}/seguimiento`);
  await phone.fill('#f-folio', folio.toLowerCase());
  await phone.fill('#f-birth_date', '1975-08-09');
  await submitAndLoad(phone, '/seguimiento', () => phone.click('form[action="/seguimiento"] button[type="submit"]'));
  const tracked = phone.locator(`section.tracked[data-folio="${folio}"]`);
  assert.equal(await tracked.count(), 1, 'the request is shown');
  assert.equal(await tracked.locator('dd.status').getAttribute('data-status'), 'active');
  assert.equal(await tracked.locator('ol.steps li').count(), 4);
  assert.doesNotMatch(await phone.locator('main').innerText(), /Marta/);
  // A wrong birth date: the neutral message, nothing shown.
  await phone.fill('#f-folio', folio);
  await phone.fill('#f-birth_date', '1975-08-10');
  await submitAndLoad(phone, '/seguimiento', () => phone.click('form[action="/seguimiento"] button[type="submit"]'));
  assert.equal(await phone.locator('section.tracked').count(), 0);
  assert.match(await phone.locator('[role="alert"]').first().innerText(), /No encontramos una solicitud/);
  await citizen.close();

  assert.deepEqual(errors, []);
  await office.close();
  await agency.close();
});
