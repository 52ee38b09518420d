import { githubCrc32 } from './github-crc32.js';
import { jwt, luhn, pemBody } from './structural.js';
import { randomLooking } from './generic.js';

/** Named checks a rule can ask for with `validate:`; a secret failing its check is not a finding. */
export const validators: Readonly<Record<string, (secret: string) => boolean>> = {
  'github-crc32': githubCrc32,
  jwt,
  'pem-body': pemBody,
  luhn,
  'random-looking': randomLooking,
};
