/** The signed-in vendor's (or staff member's) organisation catalog: its venues and each venue's resources. */
import { api, unwrap } from "../../api/client";
import type { Resource, Venue } from "../../api/types";

export interface VenueWithResources {
  venue: Venue;
  resources: Resource[];
}

const PAGE = 100;

export async function myVenues(): Promise<Venue[]> {
  const venues: Venue[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap(api.GET("/api/v1/venues", { params: { query: { mine: true, limit: PAGE, cursor } } }));
    venues.push(...page.venues);
    cursor = page.pagination.nextCursor ?? undefined;
  } while (cursor);
  return venues;
}

export async function resourcesOf(venueId: string): Promise<Resource[]> {
  const resources: Resource[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap(
      api.GET("/api/v1/resources", { params: { query: { venueId, limit: PAGE, cursor } } }),
    );
    resources.push(...page.resources);
    const pagination = page.pagination as { nextCursor?: string | null };
    cursor = pagination.nextCursor ?? undefined;
  } while (cursor);
  return resources;
}

export async function myCatalog(): Promise<VenueWithResources[]> {
  const venues = await myVenues();
  return Promise.all(venues.map(async (venue) => ({ venue, resources: await resourcesOf(venue.id) })));
}
