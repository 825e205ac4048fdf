import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { portLayout } from '../src/ports.ts';

test('the default layout is the documented one', () => {
  const p = portLayout({});
  assert.equal(
    { base: p.base, entry: p.entry, prometheus: p.prometheus, services: p.services },
    { base: 20000, entry: 20080, prometheus: 20090, services: 20100 },
  );
  assert.equal(p.infra, {
    SOUK_INFRA_PG_PORT: 20432,
    SOUK_INFRA_REDIS_PORT: 20379,
    SOUK_INFRA_REDIS_BUS_PORT: 20479,
    SOUK_INFRA_KAFKA_CONTROL_PORT: 20092,
  });
});

test('SOUK_PORT_BASE moves everything; a single-port variable still wins', () => {
  const p = portLayout({ SOUK_PORT_BASE: '31000', SOUK_PORT: '8080' });
  assert.is(p.entry, 8080);
  assert.is(p.prometheus, 31090);
  assert.is(p.services, 31100);
  assert.is(p.infra.SOUK_INFRA_PG_PORT, 31432);
  assert.is(p.infra.SOUK_INFRA_REDIS_BUS_PORT, 31479);
});

test('a bad value is refused with its variable named', () => {
  assert.throws(() => portLayout({ SOUK_PORT_BASE: '30500' }), /SOUK_PORT_BASE=30500/);
  assert.throws(() => portLayout({ SOUK_PORT_BASE: 'x' }), /SOUK_PORT_BASE=x/);
  assert.throws(() => portLayout({ SOUK_PROMETHEUS_PORT: '80' }), /SOUK_PROMETHEUS_PORT=80/);
});

test.run();
