import { make } from '../demo-book';
test('x', () => { expect(make(1).company.name()).toBe(make(1).company.name()); console.log(make(1).company.name()); });
