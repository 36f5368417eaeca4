// Runs TypeScript sources directly with SWC (decorator metadata included, no type check;
// `npm run lint` and `npm run build` type-check).
process.env.SWCRC = process.env.SWCRC || 'true';
require('@swc-node/register');
