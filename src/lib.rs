//! libopentok (work in progress)
