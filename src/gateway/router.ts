/**
 * Gemini model name → ordered upstream targets. `routes` entries and the original `model_mapping` share one
 * resolution order: exact name, then the most specific glob pattern, then the default model ([R-MAP-2]). Targets after
 * the first are fallbacks.
 */
import { ModelMapper, type ModelResolution } from '../config/model-mapping.js';

export interface RouteTarget {
  upstream: string;
  model: string;
}

export interface RoutePlan {
  targets: RouteTarget[];
  matchedBy: ModelResolution['matchedBy'];
}

export class Router {
  private readonly routes: ModelMapper<RouteTarget[]>;
  private readonly legacy: ModelMapper<string>;
  private readonly defaultUpstream: string;

  constructor(routes: Readonly<Record<string, RouteTarget[]>>, legacy: ModelMapper<string>, defaultUpstream: string) {
    this.routes = new ModelMapper(routes, undefined);
    this.legacy = legacy;
    this.defaultUpstream = defaultUpstream;
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
