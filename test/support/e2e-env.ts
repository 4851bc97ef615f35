/**
 * Runs before every e2e test file: points the engine-level tests (which read DOCKER_HOST and
 * TEST_REGISTRY*) at the engine and registry the global setup started for this run.
 */
import { inject } from 'vitest';

const services = inject('services');
process.env.DOCKER_HOST = services.dockerHost;
process.env.TEST_REGISTRY = services.registry;
process.env.TEST_REGISTRY_USER = services.registryUser;
process.env.TEST_REGISTRY_PASSWORD = services.registryPassword;
