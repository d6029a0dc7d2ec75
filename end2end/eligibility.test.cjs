// Life events in a real browser: a caseworker registers a single mother and her daughter, opens
// "¿Qué pasó?" with MADRE_SOLA, answers the one missing fact about the mother (no partner at home:
// the verdict changes as soon as the answer is chosen, before it is saved), answers the
// daughter's school questions, requests MADSOL for the mother and UTILES for the daughter in one
// step, and prints the receipt with both folios.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, eventually, signInAsCaseworker, submitAndLoad, runSurname, register } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

// Answers one question of the bundle and waits for the page to come back.
async function answer(page, program, beneficiary, kind, value) {
  const select = page.locator(`#answer-${program}-${beneficiary}-${kind}`);
  await select.selectOption(value);
  await submitAndLoad(page, '/que-paso', () => select.locator('xpath=ancestor::form').locator('button[type="submit"]').click());
}

test('a single mother: one answer, two programs requested at once, a printed receipt', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await signInAsCaseworker(page);

  const surname = runSurname();
  await page.goto(`${BASE}/oficina/personas/nueva`);
  const mother = await register(page, { given: 'Rosa', first: surname, second: 'Peña', birth: '1990-03-04' });
  // Her income: 3,000 pesos a month, declared.
  await page.goto(`${BASE}/oficina/persona/${mother}/datos`);
  await page.selectOption('#f-kind', 'monthly_income');
  await page.fill('#f-value', '3000');
  await page.selectOption('#f-source', 'declared');
  await Promise.all([page.waitForURL(`${BASE}/oficina/persona/${mother}`), page.click('form[action$="/datos"] button[type="submit"]')]);
  // Her daughter, registered from the family page.
  await page.goto(`${BASE}/oficina/persona/${mother}/familia`);
  await Promise.all([
    page.waitForURL(/familiar_de=/),
    page.click('a[href*="relacion=child_of"]'),
  ]);
  const daughter = await register(page, { given: 'Lucía', first: surname, second: 'Peña', birth: '2017-05-05' });

  await page.goto(`${BASE}/oficina/persona/${mother}/que-paso?evento=MADRE_SOLA`);
  const madsol = page.locator(`article[data-program="MADSOL"][data-beneficiary="${mother}"]`);
  const utiles = page.locator(`article[data-program="UTILES"][data-beneficiary="${daughter}"]`);
  assert.match(await madsol.locator('p[role="status"]').innerText(), /información/i);
  // Once hydrated, choosing "no partner" re-evaluates in the browser, before anything is saved.
  assert.ok(await eventually(async () => {
    await page.selectOption(`#answer-MADSOL-${mother}-partner`, 'no');
    return /^Cumple los requisitos/.test((await madsol.locator('p[role="status"]').innerText()).trim());
  }), 'the verdict changes while answering');
  // The live verdict already says "eligible": wait for the page the saved answer leads to.
  await submitAndLoad(page, '/que-paso', () => madsol.locator('form.answer button[type="submit"]').click());
  // Saved as a fact: after a reload the mother is eligible and the question is gone.
  await page.reload();
  assert.match(await madsol.locator('p[role="status"]').innerText(), /^Cumple los requisitos/);
  assert.equal(await page.locator(`#answer-MADSOL-${mother}-partner`).count(), 0);

  // The daughter's school: level, then type.
  await answer(page, 'UTILES', daughter, 'school_level', 'primary');
  await answer(page, 'UTILES', daughter, 'school_type', 'public');
  await page.reload();
  assert.match(await utiles.locator('p[role="status"]').innerText(), /^Cumple los requisitos/);

  // Both programs in one request.
  await page.check(`input[name="pick"][data-program="MADSOL"][data-beneficiary="${mother}"]`);
  await page.check(`input[name="pick"][data-program="UTILES"][data-beneficiary="${daughter}"]`);
  await Promise.all([
    page.waitForURL(/\/recibo\?ids=\d+,\d+$/),
    page.click('section.request button[type="submit"]'),
  ]);
  const folios = await page.locator('code.folio').allInnerTexts();
  assert.equal(folios.length, 2, folios.join(' '));
  assert.match(folios.join(' '), /MADSOL-\d{2}-\d{6}-[0-9A-Z]/);
  assert.match(folios.join(' '), /UTILES-\d{2}-\d{6}-[0-9A-Z]/);
  const lines = await page.locator('article.receipt tbody').innerText();
  assert.match(lines, /Rosa/);
  assert.match(lines, /Lucía/);

  // Printed: the receipt without the navigation, and a real PDF.
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.site-header nav').isVisible(), false);
  assert.equal(await page.locator('article.receipt .no-print').isVisible(), false);
  assert.ok(await page.locator('article.receipt table').isVisible());
  const pdf = await page.pdf({ format: 'Letter' });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  assert.deepEqual(errors, []);
  await context.close();
});
