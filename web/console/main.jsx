import { render } from 'preact';
import '../shared/style.css';
render(<main><p>hookd console</p></main>, document.getElementById('app'));
