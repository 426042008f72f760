// PLACEHOLDER: replaced by the real validator.
import type { SpecValidator } from "../types.js";
export const validateAuthorizationPolicy: SpecValidator = () => [];
