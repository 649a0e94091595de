// The clock the service tests move: real time plus an offset the test advances.
export class TestClock {
  offset = 0;
  now = () => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}
