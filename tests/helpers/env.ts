/** The throwaway stack `npm test` started for this run (see scripts/test.ts). */
function need(k: string): string {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run integration tests through npm test`);
  return v;
}

export const stackEnv = {
  get name() { return need("SWITCHYARD_STACK"); },
  get apiUrl() { return need("SWITCHYARD_API_URL"); },
  get dbUrl() { return need("SWITCHYARD_DB_URL"); },
  get anonKey() { return need("SWITCHYARD_ANON_KEY"); },
  get serviceRoleKey() { return need("SWITCHYARD_SERVICE_ROLE_KEY"); },
  get jwtSecret() { return need("SWITCHYARD_JWT_SECRET"); },
  get startedAt() { return Number(need("SWITCHYARD_STACK_STARTED_AT")); },
};

export const fnUrl = (name: string) => `${stackEnv.apiUrl}/functions/v1/${name}`;
