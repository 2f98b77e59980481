"""Reviews of resources by the customers who booked them, the vendor's reply, and the resource's rating."""
