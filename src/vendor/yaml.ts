// yaml, as the config pipeline uses it. The build replaces dist/vendor/yaml.js with a one-file bundle.
export { isMap, isPair, isScalar, isSeq, LineCounter, parse, parseAllDocuments, parseDocument, stringify } from 'yaml';
export type { Document, Node } from 'yaml';
