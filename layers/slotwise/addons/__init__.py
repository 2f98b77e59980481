"""Add-ons: extras a resource sells with its bookings (catering per guest, a projector per day), some in stock."""
