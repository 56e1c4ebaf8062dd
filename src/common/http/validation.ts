import { type ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException } from './app.exception';

export interface FieldError {
  field: string;
  errors: string[];
}

/** Flattens class-validator's tree into one entry per field ("address.city"). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      out.push({
        field,
        errors: Object.entries(error.constraints).map(([rule, message]) =>
          rule === 'whitelistValidation' ? `${field} is not an allowed field` : message,
        ),
      });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = flattenValidationErrors(errors);
      const summary = details.map((d) => d.errors[0]).join('; ');
      return AppException.validation(summary ? `Invalid input: ${summary}` : 'Invalid input', details);
    },
  });
}
