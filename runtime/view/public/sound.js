// The alert sound: a two-tone beep on each new raise, once the operator has enabled sound.
import { el, s, save } from './state.js';

// Browsers start audio only after a user gesture: until then the "Enable sound" button shows.

let audio = null;

/** The audio context's state, or 'none' before sound was enabled. */
export function audioState() {
  return audio ? audio.state : 'none';
}

function soundReady() {
  return !!audio && audio.state === 'running';
}

export function renderSound() {
  el.sound.hidden = soundReady();
  el.mute.hidden = !soundReady();
  el.mute.textContent = s.muted ? 'Sound off' : 'Sound on';
  el.mute.setAttribute('aria-pressed', String(s.muted));
}

function tone(at, freq, dur) {
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = 'square';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
  osc.connect(gain).connect(audio.destination);
  osc.start(at);
  osc.stop(at + dur + 0.02);
}

export function beep() {
  if (!soundReady()) {
    el.sound.classList.add('attention'); // an alert went unheard: make the button obvious
    return;
  }
  if (s.muted) return;
  const t = audio.currentTime;
  tone(t, 880, 0.15);
  tone(t + 0.2, 1175, 0.2);
  s.beeps++;
}

el.sound.addEventListener('click', async () => {
  try {
    audio ??= new AudioContext();
    audio.onstatechange = renderSound;
    await audio.resume();
    el.sound.classList.remove('attention');
    s.muted = false;
    save('lumen.muted', '0');
    renderSound();
    tone(audio.currentTime, 660, 0.08); // confirms that sound works
  } catch (err) {
    el.sound.textContent = `Sound unavailable (${err && err.message ? err.message : err})`;
  }
});

el.mute.addEventListener('click', () => {
  s.muted = !s.muted;
  save('lumen.muted', s.muted ? '1' : '0');
  renderSound();
});

