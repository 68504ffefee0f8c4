import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppCapabilities, AppManifest } from '@orbis/protocol';
import { assertPeripheralsFree, findPeripheralConflicts } from './peripherals.ts';

let next = 0;
function app(name: string, capabilities: AppCapabilities, componentId?: string): AppManifest {
  next += 1;
  return {
    SchemaVersion: 1,
    Name: name,
    ComponentId: componentId ?? `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`,
    EntryPoint: 'main.js',
    Capabilities: capabilities,
  };
}

function ownedCode(installed: readonly AppManifest[], candidate: AppManifest): string {
  try {
    assertPeripheralsFree(installed, candidate);
  } catch (error) {
    return (error as { code: string }).code;
  }
  return 'accepted';
}

describe('assertPeripheralsFree', () => {
  const blink = app('blink', { Gpio: [8, 9], Uart: ['ISU0'], AllowedTcpServerPorts: [8080] });
  const telemetry = app('telemetry', { Adc: ['ADC-CONTROLLER-0'], AllowedConnections: ['t.example'] });

  it('accepts an app whose peripherals no installed app claims', () => {
    const candidate = app('relay', { Gpio: [10], I2cMaster: ['ISU1'], AllowedTcpServerPorts: [8081] });
    assert.doesNotThrow(() => assertPeripheralsFree([blink, telemetry], candidate));
    assert.doesNotThrow(() => assertPeripheralsFree([], candidate));
    assert.doesNotThrow(() => assertPeripheralsFree([blink], app('quiet', {})));
  });

  it('refuses a GPIO pin another app owns, naming the pin and the owner', () => {
    const candidate = app('button', { Gpio: [12, 9] });
    assert.throws(() => assertPeripheralsFree([telemetry, blink], candidate), {
      code: 'APP_PERIPHERAL_OWNED',
      message: new RegExp(
        `^app "button" \\(component ${candidate.ComponentId}\\) cannot be installed: ` +
          `GPIO pin 9 \\(Gpio\\) is owned by app "blink" \\(component ${blink.ComponentId}\\)$`,
      ),
    });
  });

  it('refuses a peripheral another app owns, under any peripheral capability', () => {
    for (const capability of ['Uart', 'I2cMaster', 'SpiMaster', 'Adc', 'Pwm'] as const) {
      const candidate = app('sensor', { [capability]: ['ISU0'] });
      assert.throws(() => assertPeripheralsFree([blink], candidate), {
        code: 'APP_PERIPHERAL_OWNED',
        message: new RegExp(`peripheral ISU0 \\(${capability}\\) is owned by app "blink"`),
      });
    }
    assert.equal(ownedCode([telemetry], app('pwm', { Pwm: ['ADC-CONTROLLER-0'] })), 'APP_PERIPHERAL_OWNED');
  });

  it('refuses a TCP server port another app owns', () => {
    const candidate = app('web', { AllowedTcpServerPorts: [8080] });
    assert.throws(() => assertPeripheralsFree([blink], candidate), {
      code: 'APP_PERIPHERAL_OWNED',
      message: /TCP server port 8080 \(AllowedTcpServerPorts\) is owned by app "blink"/,
    });
  });

  it('does not treat outgoing connections, or a pin and a port with the same number, as owned', () => {
    assert.equal(
      ownedCode([telemetry], app('also-telemetry', { AllowedConnections: ['t.example'] })),
      'accepted',
    );
    assert.equal(
      ownedCode([app('gpio', { Gpio: [80] })], app('port', { AllowedTcpServerPorts: [80] })),
      'accepted',
    );
  });

  it('lets a reinstall of the same component replace its own claims', () => {
    const upgrade = app('blink', { Gpio: [8, 9, 10], Uart: ['ISU0'] }, blink.ComponentId);
    assert.equal(ownedCode([blink, telemetry], upgrade), 'accepted');
    const grabbing = app('blink', { Adc: ['ADC-CONTROLLER-0'] }, blink.ComponentId);
    assert.equal(ownedCode([blink, telemetry], grabbing), 'APP_PERIPHERAL_OWNED');
  });

  it('lists every conflict with its owner, and counts those past the eighth', () => {
    const pins = Array.from({ length: 11 }, (_, pin) => pin);
    const first = app('first', { Gpio: pins.slice(0, 6) });
    const second = app('second', { Gpio: pins.slice(6) });
    const candidate = app('greedy', { Gpio: pins });
    const conflicts = findPeripheralConflicts([first, second], candidate);
    assert.equal(conflicts.length, 11);
    assert.deepEqual(conflicts[7], {
      kind: 'gpio',
      id: '7',
      capability: 'Gpio',
      owner: { name: 'second', componentId: second.ComponentId },
    });
    assert.throws(() => assertPeripheralsFree([first, second], candidate), {
      code: 'APP_PERIPHERAL_OWNED',
      message: /GPIO pin 7 \(Gpio\) is owned by app "second" .*; and 3 more$/,
    });
  });

  it('names the first installed owner when installed apps already overlap', () => {
    const one = app('one', { Gpio: [4] });
    const two = app('two', { Gpio: [4] });
    assert.equal(findPeripheralConflicts([one, two], app('three', { Gpio: [4] }))[0]?.owner.name, 'one');
  });
});
