import { MESSAGE_MODEL_FIELDS } from '../message-model';
import { MessageChannel } from '../outreach.enums';
import { sampleModel } from '../sample-model';
import { validateTemplate } from '../template-validation';

const body = (b: string, channel = MessageChannel.PORTAL) => validateTemplate({ channel, subject: channel === MessageChannel.SMS ? null : 'Subject', body: b });
const reasons = (b: string, channel?: MessageChannel) => body(b, channel).map((p) => p.reason);

describe('template validation (at save)', () => {
  it('accepts fields, helpers and blocks of the model, in their contexts', () => {
    const ok = [
      '{{customer.name}} {{contact.email}} {{sender.phone}} {{tenant.name}} {{links.payment}} {{step.offsetDays}}',
      '{{#each invoices}}{{number}} {{this.number}} {{./dueDate}} {{money amountDue currency}} {{date dueDate}} {{../customer.name}} {{@root.tenant.name}} {{@index}}{{/each}}',
      '{{#each invoices as |inv i|}}{{inv.number}} {{i}} {{#each inv.lines as |line|}}{{line.description}} {{money line.amount inv.currency}}{{/each}}{{/each}}',
      '{{#each invoices}}{{#if lines}}{{#each lines}}{{money amount ../currency}}{{/each}}{{/if}}{{/each}}',
      '{{#with totals}}{{money amountDue currency}}{{else}}{{#each totalsByCurrency}}{{money amountDue currency}}{{/each}}{{/with}}',
      '{{plural invoices.length "# invoice" "# invoices"}} {{invoices.length}} {{invoices.0.number}}',
      '{{#if dispute}}{{dispute.reasonCode}} {{date dispute.openedAt}}{{else if totals}}x{{/if}}{{#unless sender.phone}}-{{/unless}}',
      '{{!-- a comment --}}{{#if totals.amountDue includeZero=true}}0{{/if}}',
    ];
    for (const b of ok) expect({ b, problems: body(b) }).toEqual({ b, problems: [] });
  });

  it('refuses an unknown merge field, naming it and suggesting the nearest', () => {
    const [p] = body('Dear {{customer.nmae}},');
    expect(p).toMatchObject({ field: 'body', reason: 'UNKNOWN_MERGE_FIELD' });
    expect(p.message).toContain('customer.nmae');
    expect(p.message).toContain('did you mean customer.name?');
    expect(reasons('{{invoice.number}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
    expect(reasons('{{customer.name.first}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
  });

  it('knows which fields exist inside #each and outside it', () => {
    expect(body('{{#each invoices}}{{numbr}}{{/each}}')[0].message).toContain('invoices[].numbr (did you mean invoices[].number?)');
    expect(reasons('{{number}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
    expect(reasons('{{#each invoices}}{{customer.name}}{{/each}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
    expect(reasons('{{@index}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
    expect(reasons('{{../customer.name}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
    expect(reasons('{{#each invoices}}{{else}}{{number}}{{/each}}')).toEqual(['UNKNOWN_MERGE_FIELD']);
    expect(reasons('{{#each customer}}{{name}}{{/each}}')).toEqual(['HELPER_ARGUMENTS']);
    expect(reasons('{{invoices}}')).toEqual(['NOT_PRINTABLE']);
    expect(reasons('{{#each invoices}}{{this}}{{/each}}')).toEqual(['NOT_PRINTABLE']);
  });

  it('refuses unknown helpers and block helpers, and wrong arguments', () => {
    expect(body('{{uppercase customer.name}}')[0]).toMatchObject({ field: 'body', reason: 'UNKNOWN_HELPER' });
    expect(reasons('{{#repeat invoices}}x{{/repeat}}')).toEqual(['UNKNOWN_HELPER']);
    expect(reasons('{{lookup invoices 0}}')).toEqual(['UNKNOWN_HELPER']);
    expect(reasons('{{log customer.name}}')).toEqual(['UNKNOWN_HELPER']);
    expect(reasons('{{if customer.name}}')).toEqual(['UNKNOWN_HELPER']);
    expect(reasons('{{money totals.amountDue}}')).toEqual(['HELPER_ARGUMENTS']);
    expect(reasons('{{money totals totals.currency}}')).toEqual(['HELPER_ARGUMENTS']);
    expect(reasons('{{date}}')).toEqual(['HELPER_ARGUMENTS']);
    expect(reasons('{{money (uppercase totals.amountDue) totals.currency}}')).toEqual(['UNKNOWN_HELPER']);
    expect(reasons('{{> signature}}')).toEqual(['UNSUPPORTED_SYNTAX']);
  });

  it('refuses syntax errors with the line', () => {
    const [p] = body('Hello\n{{#each invoices}}\n{{number}}');
    expect(p).toMatchObject({ field: 'body', reason: 'TEMPLATE_SYNTAX' });
    expect(p.message).toMatch(/line \d/);
    expect(reasons('{{#if totals}}x{{/each}}')).toEqual(['TEMPLATE_SYNTAX']);
    expect(reasons('{{customer.name')).toEqual(['TEMPLATE_SYNTAX']);
  });

  it('checks the subject: required for email, refused for SMS, validated like the body', () => {
    expect(validateTemplate({ channel: MessageChannel.EMAIL, subject: '  ', body: 'x' })).toEqual([expect.objectContaining({ field: 'subject', reason: 'SUBJECT_REQUIRED' })]);
    expect(validateTemplate({ channel: MessageChannel.INTERNAL, subject: null, body: 'x' })[0].reason).toBe('SUBJECT_REQUIRED');
    expect(validateTemplate({ channel: MessageChannel.PORTAL, subject: null, body: 'x' })).toEqual([]);
    expect(validateTemplate({ channel: MessageChannel.SMS, subject: 'Hi', body: 'x' })[0]).toMatchObject({ field: 'subject', reason: 'SUBJECT_NOT_ALLOWED' });
    expect(validateTemplate({ channel: MessageChannel.EMAIL, subject: 'Hi {{custmer.name}}', body: 'x' })[0]).toMatchObject({ field: 'subject', reason: 'UNKNOWN_MERGE_FIELD' });
    expect(validateTemplate({ channel: MessageChannel.EMAIL, subject: 'ok', body: ' ' })[0]).toMatchObject({ field: 'body', reason: 'BODY_REQUIRED' });
  });

  it('refuses raw (unescaped) merge fields in HTML bodies only', () => {
    expect(reasons('{{{customer.name}}}', MessageChannel.EMAIL)).toEqual(['UNESCAPED_OUTPUT']);
    expect(reasons('{{& customer.name}}', MessageChannel.INTERNAL)).toEqual(['UNESCAPED_OUTPUT']);
    expect(reasons('{{{customer.name}}}', MessageChannel.SMS)).toEqual([]);
  });

  it('MESSAGE_MODEL_FIELDS describes exactly the MessageModel a sample carries', () => {
    const paths = new Set<string>();
    const walk = (v: unknown, path: string) => {
      if (Array.isArray(v)) {
        paths.add(path);
        v.forEach((item) => walk(item, `${path}[]`));
      } else if (v && typeof v === 'object') {
        if (path && !path.endsWith('[]')) paths.add(path);
        for (const [k, child] of Object.entries(v)) walk(child, path ? `${path}.${k}` : k);
      } else if (v !== null && v !== undefined) {
        paths.add(path);
      }
    };
    walk(sampleModel({ key: 'dispute-nudge', locale: 'en' }), '');
    walk(sampleModel({ key: 'overdue-friendly', locale: 'en' }), '');
    const declared = new Set(MESSAGE_MODEL_FIELDS.map((f) => f.path));
    expect([...paths].filter((p) => !declared.has(p))).toEqual([]);
    expect([...declared].filter((p) => !paths.has(p))).toEqual([]);
  });
});
