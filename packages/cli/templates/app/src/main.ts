// An Orbis app: blinks the LED on GPIO 8 once a second and logs each change.
// The manifest grants GPIO 8 (app_manifest.json); anything else the app tries is denied.
//
//   orbis app build              bundles this file into dist/main.js
//   orbis app pack --key dev.key --out app.oimg --tenant TENANT_ID

const LED_PIN = 8;
const BLINK_MS = 1000;

const led = orbis.gpio.open(LED_PIN, 'out');
let level: 0 | 1 = 0;

orbis.timers.setInterval(() => {
  level = level === 0 ? 1 : 0;
  led.write(level);
  orbis.log.info(`LED ${level === 1 ? 'on' : 'off'}`);
}, BLINK_MS);
