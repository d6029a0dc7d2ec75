// The registry in a real browser: a caseworker registers a person (the CURP rule shown while
// typing once hydrated), hits the duplicate warning on a second registration, prints the card
// (credit-card size in print media, QR code as SVG) and opens the profile by card number.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { BASE, launch, eventually, signInAsCaseworker, fillIntake } = require('./browser.cjs');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('register, hit the duplicate warning, print the card, open the profile by card number', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await signInAsCaseworker(page);

  await page.goto(`${BASE}/oficina/personas/nueva`);
  await fillIntake(page, { given: 'Ximena', first: 'Núñez', second: 'Peña', birth: '1988-02-29', sex: 'M' });
  // Once hydrated, a wrong check digit is named while typing, before any submit.
  assert.ok(await eventually(async () => {
    await page.fill('#f-curp', '');
    await page.type('#f-curp', 'NUPX880229MDFXXM09');
    return /verificador/.test(await page.locator('#f-curp-error').innerText());
  }), 'the CURP rule is shown while typing');
  await page.fill('#f-curp', '');
  await page.fill('#f-curp', curpFor());
  await Promise.all([
    page.waitForURL(/\/oficina\/persona\/\d+$/),
    page.click('form.intake button[type="submit"]:not([name])'),
  ]);
  const profileUrl = page.url();
  assert.match(await page.locator('h1').innerText(), /Ximena Núñez Peña/);
  assert.match(await page.locator('dl.profile').first().innerText(), /\d{4} \d{4} \d{2}/);

  // The same person again, without accents nor CURP: the probable duplicate is shown first.
  await page.goto(`${BASE}/oficina/personas/nueva`);
  await fillIntake(page, { given: 'Ximena', first: 'Nunez', second: 'Pena', birth: '1988-02-29', sex: 'M' });
  await page.click('form.intake button[type="submit"]:not([name])');
  await page.waitForSelector('section.candidates');
  assert.match(await page.locator('section.candidates').innerText(), /Ximena Núñez Peña/);
  assert.ok(await page.locator('button[name="confirm"][value="new"]').isVisible(), '"someone else" offered');
  await Promise.all([
    page.waitForURL(profileUrl),
    page.locator('section.candidates a', { hasText: /Es esta persona/ }).first().click(),
  ]);

  // The card: credit-card size when printed, QR as SVG, no CURP on it.
  await page.click('a[href$="/tarjeta"]');
  await page.waitForSelector('.person-card svg');
  const number = (await page.locator('.person-card-number').innerText()).trim();
  assert.match(number, /^\d{4} \d{4} \d{2}$/);
  await page.emulateMedia({ media: 'print' });
  const box = await page.locator('.person-card').boundingBox();
  // 85.6 mm × 53.98 mm at 96 px per inch.
  assert.ok(Math.abs(box.width - 323.5) < 2 && Math.abs(box.height - 204) < 2, JSON.stringify(box));
  assert.equal(await page.locator('.site-header').isVisible(), false, 'only the card prints');
  assert.doesNotMatch(await page.locator('.person-card').innerText(), /NUPX/);
  await page.emulateMedia({ media: 'screen' });

  // Typing the card number opens the profile.
  await page.goto(`${BASE}/oficina/personas`);
  await page.fill('#f-card', number);
  await Promise.all([
    page.waitForURL(profileUrl),
    page.locator('form', { has: page.locator('#f-card') }).locator('button').click(),
  ]);
  assert.deepEqual(errors, []);
  await context.close();
});

/// NUPX880229MDFXXM0 + its check digit: XIMENA NÚÑEZ PEÑA, 29 Feb 1988, woman, Mexico City
/// (Ñ becomes X in the letters and consonants).
function curpFor() {
  const first17 = 'NUPX880229MDFXXM0';
  const alphabet = '0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += alphabet.indexOf(first17[i]) * (18 - i);
  return first17 + String((10 - (sum % 10)) % 10);
}
