/** Short names for the generated schemas (`src/api/schema.d.ts`). */
import type { components } from "./schema.js";

export type Schemas = components["schemas"];
export type Venue = Schemas["Venue"];
export type Resource = Schemas["Resource"];
export type Booking = Schemas["Booking"];
export type BookingStatus = Booking["status"];
export type Payment = Schemas["Payment"];
export type Addon = Schemas["Addon"];
