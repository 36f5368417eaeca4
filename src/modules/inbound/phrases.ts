import type { DisputeReason } from '../disputes/dispute.entity';

/**
 * The phrase lists of the inbound-reply classifier, per language. Matching is plain and
 * transparent: the reply's own text (quoted history removed), lowercased, whitespace collapsed,
 * typographic apostrophes straightened, each phrase matched whole (not inside a longer word).
 * Every suggestion names the phrase that matched, so a person can see why it was raised and a
 * tenant can ask for a phrase to be added or removed here.
 */
export type Language = 'en' | 'de' | 'fr';
export const LANGUAGES: Language[] = ['en', 'de', 'fr'];

/** Likely disputes, by the reason code they suggest. Specific reasons are tried before OTHER. */
export const DISPUTE_PHRASES: Record<Language, Partial<Record<DisputeReason, string[]>>> = {
  en: {
    NOT_RECEIVED: ['we never received', 'never received', 'did not receive', "didn't receive", 'have not received', "haven't received", 'has not been received', 'not been delivered', 'was never delivered', 'were never delivered', 'never arrived', 'not received the goods', 'goods not received'],
    DUPLICATE: ['duplicate invoice', 'is a duplicate', 'duplicate charge', 'duplicate billing', 'invoiced twice', 'billed twice', 'charged twice', 'double billed', 'double charged', 'same invoice twice'],
    PRICING: ['wrong amount', 'incorrect amount', 'amount is wrong', 'amount is incorrect', 'wrong price', 'incorrect price', 'price is wrong', 'overcharged', 'not the agreed price', 'wrong rate'],
    QUANTITY: ['wrong quantity', 'incorrect quantity', 'quantity is wrong', 'short shipped', 'short delivery', 'fewer units'],
    TAX: ['wrong tax', 'wrong vat', 'tax is wrong', 'vat is wrong', 'incorrect tax', 'incorrect vat', 'should be tax exempt', 'we are tax exempt'],
    SERVICE: ['damaged', 'defective', 'faulty', 'poor quality', 'not working', 'not satisfied with the service', 'service was not provided'],
    OTHER: ['this invoice is wrong', 'the invoice is wrong', 'invoice is incorrect', 'invoice is not correct', 'error on the invoice', 'mistake on the invoice', 'we dispute', 'we are disputing', 'we do not agree', "we don't agree", 'we already paid', 'already been paid', 'not our invoice', 'we did not order'],
  },
  de: {
    NOT_RECEIVED: ['nie erhalten', 'nicht erhalten', 'nie bekommen', 'nicht bekommen', 'nicht geliefert', 'nie geliefert', 'ware nicht angekommen', 'nie angekommen'],
    DUPLICATE: ['doppelt berechnet', 'doppelte rechnung', 'zweimal berechnet', 'doppelt in rechnung gestellt', 'duplikat'],
    PRICING: ['falscher betrag', 'betrag ist falsch', 'betrag stimmt nicht', 'falscher preis', 'preis ist falsch', 'preis stimmt nicht', 'zu viel berechnet'],
    QUANTITY: ['falsche menge', 'menge ist falsch', 'menge stimmt nicht', 'zu wenig geliefert'],
    TAX: ['falsche mehrwertsteuer', 'falsche mwst', 'mwst ist falsch', 'falsche umsatzsteuer', 'falsche ust'],
    SERVICE: ['beschädigt', 'defekt', 'mangelhaft', 'funktioniert nicht'],
    OTHER: ['rechnung ist falsch', 'rechnung ist fehlerhaft', 'rechnung stimmt nicht', 'fehler in der rechnung', 'wir widersprechen', 'widerspruch', 'reklamation', 'bereits bezahlt', 'schon bezahlt', 'nicht bestellt'],
  },
  fr: {
    NOT_RECEIVED: ['jamais reçu', 'pas reçu', 'non reçu', 'non reçue', 'jamais été livré', 'pas été livré', 'pas été livrée', 'jamais arrivé', 'non livré'],
    DUPLICATE: ['en double', 'doublon', 'facturé deux fois', 'facturée deux fois', 'facturés deux fois'],
    PRICING: ['mauvais montant', 'montant incorrect', 'montant erroné', 'montant est faux', 'mauvais prix', 'prix incorrect', 'prix erroné', 'surfacturé', 'surfacturation'],
    QUANTITY: ['mauvaise quantité', 'quantité incorrecte', 'quantité erronée'],
    TAX: ['tva incorrecte', 'mauvaise tva', 'tva erronée', 'exonéré de tva'],
    SERVICE: ['endommagé', 'endommagée', 'défectueux', 'défectueuse', 'ne fonctionne pas', 'service non rendu'],
    OTHER: ['facture est incorrecte', 'facture est erronée', 'facture est fausse', 'erreur sur la facture', 'nous contestons', 'je conteste', 'litige', 'déjà payé', 'déjà payée', 'déjà réglé', 'déjà réglée', 'pas commandé'],
  },
};

/** The order reasons are tried in: the first reason with a matching phrase wins. */
export const DISPUTE_REASON_ORDER: DisputeReason[] = ['NOT_RECEIVED', 'DUPLICATE', 'PRICING', 'QUANTITY', 'TAX', 'SERVICE', 'OTHER'] as DisputeReason[];

/** Likely promises to pay: the intent; the date (and amount) are read from the same sentence, else the whole reply. */
export const PROMISE_PHRASES: Record<Language, string[]> = {
  en: ['we will pay', "we'll pay", 'i will pay', "i'll pay", 'we will make the payment', 'we will make payment', 'we will settle', 'we will transfer', 'will be paid', 'will be settled', 'will be transferred', 'payment will be made', 'payment will be sent', 'payment scheduled for', 'payment is scheduled', 'payment has been scheduled', 'scheduled for payment', 'scheduled the payment', 'we can pay', 'we expect to pay', 'we plan to pay', 'we intend to pay', 'promise to pay', 'payment will go out'],
  de: ['wir zahlen', 'wir werden zahlen', 'wir werden bezahlen', 'wir werden die rechnung', 'wir überweisen', 'wir werden überweisen', 'wird bezahlt', 'wird überwiesen', 'wird beglichen', 'zahlung erfolgt', 'zahlung ist geplant', 'zahlung ist für', 'zahlung für den', 'zur zahlung vorgesehen', 'begleichen wir', 'überweisen wir', 'zahlen wir'],
  fr: ['nous paierons', 'nous allons payer', 'nous allons régler', 'nous réglerons', 'je paierai', 'je vais payer', 'sera payée', 'sera payé', 'sera réglée', 'sera réglé', 'sera effectué', 'paiement est prévu', 'paiement prévu', 'paiement sera', 'virement sera', 'nous effectuerons le paiement', 'nous effectuerons le virement'],
};

/** Automatic replies (out of office, vacation, auto-acknowledgements): recognised and never classified. */
export const AUTO_REPLY_SUBJECT_PHRASES: Record<Language, string[]> = {
  en: ['out of office', 'out of the office', 'automatic reply', 'auto reply', 'auto-reply', 'autoreply', 'auto response', 'auto-response', 'away from the office', 'on vacation', 'on leave', 'delivery status notification', 'undeliverable', 'mail delivery failed'],
  de: ['abwesenheitsnotiz', 'abwesenheit', 'automatische antwort', 'autom. antwort', 'nicht im büro', 'urlaub', 'unzustellbar'],
  fr: ['absence du bureau', 'absent du bureau', 'réponse automatique', 'message d’absence', "message d'absence", 'en congé', 'non remis'],
};

export const AUTO_REPLY_BODY_PHRASES: Record<Language, string[]> = {
  en: ['i am out of the office', "i'm out of the office", 'i am currently out of the office', "i'm currently out of the office", 'i am out of office', "i'm out of office", 'i am currently away', 'i am on vacation', 'i am on annual leave', 'i will be out of the office', 'i have limited access to email', 'this is an automated response', 'this is an automatic reply', 'this mailbox is not monitored'],
  de: ['ich bin bis', 'ich bin derzeit nicht im büro', 'ich bin nicht im büro', 'ich bin im urlaub', 'ich befinde mich im urlaub', 'dies ist eine automatische antwort', 'vielen dank für ihre nachricht. ich bin'],
  fr: ['je suis absent', 'je suis absente', 'je serai absent', 'je serai absente', 'je suis actuellement absent', 'je suis en congé', 'ceci est une réponse automatique'],
};

/** Month names (and common abbreviations) per language, 1-based. */
export const MONTHS: Record<Language, Record<string, number>> = {
  en: { january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6, july: 7, jul: 7, august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10, november: 11, nov: 11, december: 12, dec: 12 },
  de: { januar: 1, jänner: 1, jan: 1, februar: 2, feb: 2, märz: 3, maerz: 3, mär: 3, april: 4, apr: 4, mai: 5, juni: 6, jun: 6, juli: 7, jul: 7, august: 8, aug: 8, september: 9, sep: 9, sept: 9, oktober: 10, okt: 10, november: 11, nov: 11, dezember: 12, dez: 12 },
  fr: { janvier: 1, janv: 1, février: 2, fevrier: 2, févr: 2, mars: 3, avril: 4, avr: 4, mai: 5, juin: 6, juillet: 7, juil: 7, août: 8, aout: 8, septembre: 9, sept: 9, octobre: 10, oct: 10, novembre: 11, nov: 11, décembre: 12, decembre: 12, déc: 12 },
};

/** Weekday names per language, ISO numbering (Monday = 1). */
export const WEEKDAYS: Record<Language, Record<string, number>> = {
  en: { monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6, sunday: 7 },
  de: { montag: 1, dienstag: 2, mittwoch: 3, donnerstag: 4, freitag: 5, samstag: 6, sonntag: 7 },
  fr: { lundi: 1, mardi: 2, mercredi: 3, jeudi: 4, vendredi: 5, samedi: 6, dimanche: 7 },
};

/** Relative day words per language: days after the message date. */
export const RELATIVE_DAYS: Record<Language, Record<string, number>> = {
  en: { today: 0, tomorrow: 1 },
  de: { heute: 0, morgen: 1, übermorgen: 2 },
  fr: { "aujourd'hui": 0, demain: 1, 'après-demain': 2 },
};

/** End of the current month. */
export const END_OF_MONTH: Record<Language, string[]> = {
  en: ['end of the month', 'end of month', 'month end', 'month-end'],
  de: ['ende des monats', 'monatsende', 'ende monat'],
  fr: ['fin du mois', 'fin de mois'],
};

/** "in N days" / "within N days". */
export const IN_DAYS: Record<Language, RegExp> = {
  en: /\b(?:in|within)\s+(\d{1,3})\s+(?:business\s+|working\s+)?days?\b/u,
  de: /(?:in|innerhalb(?:\s+von)?)\s+(\d{1,3})\s+(?:werk)?tag(?:en|e)?(?![\p{L}])/u,
  fr: /(?:dans|sous)\s+(\d{1,3})\s+jours?(?![\p{L}])/u,
};

/** Lines that start the quoted history of a reply: everything from there on is not the customer's new text. */
export const QUOTE_HEADERS: RegExp[] = [
  /^on\b.{0,200}\bwrote:\s*$/i,
  /^am\b.{0,200}\bschrieb\b.{0,100}:\s*$/i,
  /^le\b.{0,200}\ba écrit\s*:\s*$/i,
  /^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|forwarded message)\s*-{2,}\s*$/i,
  /^_{5,}\s*$/,
  /^(from|von|de)\s*:\s.+$/i,
];
