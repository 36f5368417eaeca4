import path from 'node:path';
import { ConfigError, loadConfig } from '../config';

describe('config', () => {
  it('defaults to embedded mode on port 4000 with data in ./data', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 4000, embedded: true, SEED_DEMO: true, RUN_WORKERS: true, LOG_LEVEL: 'info' });
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.REDIS_URL).toBeUndefined();
  });

  it('reads real services from the environment', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x', REDIS_URL: 'redis://cache:6379', PORT: '8080', SEED_DEMO: 'false' });
    expect(c).toMatchObject({ embedded: false, PORT: 8080, SEED_DEMO: false, REDIS_URL: 'redis://cache:6379' });
  });

  it.each([
    ['PORT', 'abc', /PORT: expected a port number/],
    ['PORT', '70000', /PORT/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL: expected a URL with scheme postgres or postgresql/],
    ['REDIS_URL', 'not a url', /REDIS_URL/],
    ['BOOTSTRAP_API_KEY', 'short', /BOOTSTRAP_API_KEY: expected at least 24 characters/],
    ['SEED_DEMO', 'maybe', /SEED_DEMO: expected true or false/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL/],
  ])('a bad %s stops boot naming the variable', (key, value, message) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [key]: value })).toThrow(message);
  });
});
