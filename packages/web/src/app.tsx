export function App() {
  return <main>Causeway</main>;
}
