const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/**
 * The plain-text part of an email, from the simple HTML our templates are written in
 * (paragraphs, line breaks, one table, links): table cells become columns separated by
 * " | ", links keep their address in parentheses.
 */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<(style|script|head)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    // As in HTML, line breaks and indentation in the source are just spaces (ASCII whitespace
    // only: \s would also eat the no-break spaces that French and German amounts carry).
    .replace(/[ \t\r\n\f]+/g, ' ')
    .replace(/<a\s[^>]*?href\s*=\s*"([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_m, href: string, label: string) => {
      const l = label.replace(/<[^>]+>/g, '').trim();
      const h = decode(href);
      return !l || decode(l) === h ? h : `${l} (${h})`;
    })
    .replace(/ ?<br\s*\/?> ?/gi, '\n')
    .replace(/<\/(td|th)> ?(?=<(td|th)[\s>])/gi, ' | ')
    .replace(/<\/(p|div|h[1-6]|table|ul|ol)>/gi, '\n\n')
    .replace(/<\/(tr|li)>/gi, '\n')
    .replace(/<li[^>]*>/gi, '- ')
    .replace(/<[^>]+>/g, '');
  return decode(text)
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
