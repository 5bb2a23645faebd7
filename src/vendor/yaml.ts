// yaml, as the config pipeline uses it. The build bundles it into one file, dist/vendor/yaml.cjs.
export { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parse, parseAllDocuments, parseDocument, stringify, visit } from 'yaml';
export type { Document, Node } from 'yaml';
