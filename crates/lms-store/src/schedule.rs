//! Blended learning: catalogue, offerings, bookings, attendance (issue 6): storage.
