// yaml, as the config pipeline uses it. The build bundles it into one file, dist/vendor/yaml.cjs.
export { isMap, isPair, isScalar, isSeq, LineCounter, parse, parseAllDocuments, parseDocument, stringify } from 'yaml';
export type { Document, Node } from 'yaml';
