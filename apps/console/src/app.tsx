export function App() {
  return (
    <main>
      <h1>vtl console</h1>
    </main>
  )
}
