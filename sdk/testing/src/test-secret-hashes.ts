import { useTestSecretHashCost } from '@wharf/sdk';

// Loading the testing kit makes the secret hashes made in this process cheap (scrypt N=2^10
// instead of 2^15): API tests create users and log in hundreds of times, and at the production
// cost scrypt was most of their CPU time. Hashes keep their parameters, so verifying is unchanged;
// tests of the production cost (plugins/auth-db password-hash.test) do not load this kit.
useTestSecretHashCost();
