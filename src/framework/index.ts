export { FieldData, decodeField, type FieldSchema, type FieldSchemas, type FieldType } from './fields.ts';
export { genericName, matchAll, optionalSegment, type FrameworkRequest, type OperationDeclaration, type OperationHandler, type PathDeclaration } from './path.ts';
export { defineBackend, FrameworkBackend, unsupportedOperation, type RouteMatch } from './backend.ts';
export { expandPattern, helpText, openApiPathItems, type OpenApiPathItem } from './openapi.ts';
