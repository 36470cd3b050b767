// Owns the state the modules share: the enrolled device, and whether new recovery codes are on
// screen. Everything else a module keeps to itself.

export const state = {
  // This browser's device record (keystore.js), or null before enrollment and once forgotten.
  device: null,
  // New recovery codes are on screen, or on their way: live updates must not replace them.
  codesShown: false,
};

// A device enrolled for a user who already has one waits for one of their devices to approve it.
export const isPending = () => Boolean(state.device && state.device.state === 'pending_activation');
