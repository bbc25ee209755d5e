/**
 * Gemini model name → ordered upstream targets. `routes` entries and the original `model_mapping` share one
 * resolution order: exact name, then the most specific glob pattern, then the default model ([R-MAP-2]). Targets after
 * the first are fallbacks. The router is built here from the plain routing data of the config, so the config never
 * holds a live object.
 */
import { ModelMapper, type ModelResolution } from '../config/model-mapping.js';
import type { RouteTarget, RoutingConfig } from '../config/load.js';

export type { RouteTarget, RoutingConfig } from '../config/load.js';

export interface RoutePlan {
  targets: RouteTarget[];
  matchedBy: ModelResolution['matchedBy'];
}

export class Router {
  private readonly routes: ModelMapper<RouteTarget[]>;
  private readonly legacy: ModelMapper<string>;
  private readonly defaultUpstream: string;

  constructor(routing: RoutingConfig) {
    this.routes = new ModelMapper(routing.routes, undefined);
    this.legacy = new ModelMapper(routing.modelMapping, routing.defaultModel);
    this.defaultUpstream = routing.defaultUpstream;
  }

  plan(geminiModel: string): RoutePlan | undefined {
    const route = this.routes.resolveTarget(geminiModel);
    const legacy = this.legacy.resolveTarget(geminiModel);
    // An exact model_mapping key beats a route pattern; a route beats a model_mapping pattern and the default.
    if (route !== undefined && !(legacy?.matchedBy === 'exact' && route.matchedBy !== 'exact')) {
      return { targets: route.target, matchedBy: route.matchedBy };
    }
    if (legacy === undefined) return undefined;
    return { targets: [{ upstream: this.defaultUpstream, model: legacy.target }], matchedBy: legacy.matchedBy };
  }

  isEmpty(): boolean {
    return this.routes.isEmpty() && this.legacy.isEmpty();
  }

  /** Gemini names to advertise in models.list. */
  listedNames(): string[] {
    return [...new Set([...this.routes.listedNames(), ...this.legacy.listedNames()])];
  }
}

const routers = new WeakMap<RoutingConfig, Router>();

/** The router for one routing configuration, built once per config object (a reload brings a new one). */
export function routerFor(routing: RoutingConfig): Router {
  let router = routers.get(routing);
  if (router === undefined) {
    router = new Router(routing);
    routers.set(routing, router);
  }
  return router;
}
