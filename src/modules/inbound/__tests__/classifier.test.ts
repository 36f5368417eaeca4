import { classify, decimalOf, findAmount, findDate, ownText } from '../classifier';

const on = (text: string, messageDate = '2026-03-02', subject: string | null = 'Re: Invoice INV-1001', headers: Record<string, string> = {}) => classify({ subject, text, messageDate, headers });

describe('inbound reply classifier', () => {
  it('flags likely disputes with the reason code and the phrase that matched', () => {
    expect(on('Hello, we never received this invoice. Regards').dispute).toMatchObject({ reasonCode: 'NOT_RECEIVED', phrase: 'we never received', language: 'en', excerpt: 'Hello, we never received this invoice.' });
    expect(on('This invoice is wrong, please check.').dispute).toMatchObject({ reasonCode: 'OTHER', phrase: 'this invoice is wrong' });
    expect(on('You charged the wrong amount on line 2.').dispute).toMatchObject({ reasonCode: 'PRICING', phrase: 'wrong amount' });
    expect(on('This looks like a duplicate invoice of INV-998.').dispute).toMatchObject({ reasonCode: 'DUPLICATE', phrase: 'duplicate invoice' });
    expect(on('Die Ware haben wir nie erhalten.').dispute).toMatchObject({ reasonCode: 'NOT_RECEIVED', language: 'de', phrase: 'nie erhalten' });
    expect(on('Nous avons été facturés deux fois.').dispute).toMatchObject({ reasonCode: 'DUPLICATE', language: 'fr', phrase: 'facturés deux fois' });
    expect(on('La TVA incorrecte sur cette facture.').dispute).toMatchObject({ reasonCode: 'TAX', language: 'fr' });
  });

  it('does not see disputes in ordinary replies, in quoted history, or inside longer words', () => {
    expect(on('Thanks, payment is on its way.').dispute).toBeNull();
    expect(on('Thanks!\n\nOn Mon, 2 Mar 2026, Billing <billing@acme.example> wrote:\n> If you never received the invoice, tell us.').dispute).toBeNull();
    expect(on('Thanks!\n> we never received\n').dispute).toBeNull();
    expect(on('Could you send a copy of the invoice?').dispute).toBeNull();
  });

  it('reads promises with their date (absolute, ISO, relative to the message date) and amount', () => {
    expect(on('We will pay on 12 March.').promise).toMatchObject({ phrase: 'we will pay', promisedDate: '2026-03-12', dateText: '12 march' });
    expect(on('Payment scheduled for 2026-03-12, amount USD 1,250.00.').promise).toMatchObject({ phrase: 'payment scheduled for', promisedDate: '2026-03-12', amount: '1250.00', currency: 'USD' });
    // 2026-03-02 is a Monday: "by Friday" is 2026-03-06; written on a Friday it is the next one.
    expect(on("We'll pay by Friday.").promise).toMatchObject({ promisedDate: '2026-03-06', dateText: 'friday' });
    expect(on("We'll pay by Friday.", '2026-03-06').promise?.promisedDate).toBe('2026-03-13');
    expect(on('We will pay March 20th, 2026 the full $980.50').promise).toMatchObject({ promisedDate: '2026-03-20', amount: '980.50', currency: 'USD' });
    expect(on('We will pay tomorrow.').promise?.promisedDate).toBe('2026-03-03');
    expect(on('We will pay at the end of the month.').promise?.promisedDate).toBe('2026-03-31');
    expect(on('Wir überweisen am 12. März 2026 den Betrag von 1.250,00 €.').promise).toMatchObject({ language: 'de', promisedDate: '2026-03-12', amount: '1250.00', currency: 'EUR' });
    expect(on('Wir zahlen bis 15.03.2026.').promise?.promisedDate).toBe('2026-03-15');
    expect(on('Le paiement est prévu le 12 mars.').promise).toMatchObject({ language: 'fr', promisedDate: '2026-03-12' });
    // A day and month already past this year is next year's.
    expect(on('We will pay on 1 March.').promise?.promisedDate).toBe('2027-03-01');
    // An intent without a date still is a promise, for a person to date.
    expect(on('We will pay as soon as possible.').promise).toMatchObject({ promisedDate: null });
    expect(on('Thank you for the reminder.').promise).toBeNull();
  });

  it('recognises out-of-office and other automatic replies and classifies nothing in them', () => {
    const ooo = on('I am out of the office until 20 March. We will pay on 12 March. We never received it.', '2026-03-02', 'Out of Office: Re: Invoice INV-1001');
    expect(ooo).toEqual({ autoReply: { reason: 'subject phrase "out of office" (en)' }, dispute: null, promise: null });
    expect(on('Back soon', '2026-03-02', 'Re: invoice', { 'auto-submitted': 'auto-replied' }).autoReply?.reason).toBe('header Auto-Submitted: auto-replied');
    expect(on('Ich bin bis 10.03. nicht im Büro.', '2026-03-02', 'Re: Rechnung').autoReply).not.toBeNull();
    expect(on('Je suis absente jusqu’au 10 mars.', '2026-03-02', 'Re: Facture').autoReply).not.toBeNull();
    expect(on('Real reply', '2026-03-02', 'Re: invoice', { 'auto-submitted': 'no' }).autoReply).toBeNull();
  });

  it('helpers: own text, dates, amounts', () => {
    expect(ownText('New text\n-----Original Message-----\nold')).toBe('New text');
    expect(findDate('on 03/12/2026', '2026-03-02', 'en')?.date).toBe('2026-03-12');
    expect(findDate('am 03/12/2026', '2026-03-02', 'de')?.date).toBe('2026-12-03');
    expect(findDate('on 31 february', '2026-03-02', 'en')).toBeNull();
    expect(findAmount('INV 1042 is open')).toBeNull();
    expect(findAmount('1 250,50 EUR')).toEqual({ amount: '1250.50', currency: 'EUR' });
    expect(decimalOf('1.234')).toBe('1234');
    expect(decimalOf('12,5')).toBe('12.5');
  });
});
